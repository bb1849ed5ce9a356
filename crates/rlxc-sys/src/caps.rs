//! capget/capset and prctl capability calls (bounding set, ambient) (owned by the security work).
