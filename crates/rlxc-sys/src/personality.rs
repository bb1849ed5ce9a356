//! personality(2) (owned by the attach work).
