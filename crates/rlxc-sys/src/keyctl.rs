//! keyctl(2): session keyrings (owned by the security work).
