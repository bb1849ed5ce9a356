//! memfd_create and sealing, for re-exec from a sealed copy (owned by the attach/execute work).
