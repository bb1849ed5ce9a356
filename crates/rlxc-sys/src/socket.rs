//! SCM_RIGHTS / SCM_CREDENTIALS messages on unix sockets (owned by the command-protocol work).
