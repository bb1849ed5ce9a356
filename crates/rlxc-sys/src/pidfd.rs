//! pidfd_open, pidfd_send_signal (owned by the lifecycle work).
