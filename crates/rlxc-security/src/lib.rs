//! Confinement: capabilities, seccomp, AppArmor, SELinux, session keyring, no_new_privs.
