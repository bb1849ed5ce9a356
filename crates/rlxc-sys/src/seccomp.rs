//! seccomp(2) filter load and user notification (owned by the security work).
