//! fork, prctl (title, pdeathsig, no_new_privs), exec helpers (owned by the lifecycle work).
