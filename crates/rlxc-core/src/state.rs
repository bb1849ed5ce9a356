//! Container states, numbered exactly as LXC's `lxc_state_t` (they travel on the wire as ints).

use std::fmt;
use std::str::FromStr;

/// `lxc_state_t`. The discriminants are LXC's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum State {
    Stopped = 0,
    Starting = 1,
    Running = 2,
    Stopping = 3,
    Aborting = 4,
    Freezing = 5,
    Frozen = 6,
    Thawed = 7,
}

/// `MAX_STATE`: the number of states, also the "not yet reached" answer of ADD_STATE_CLIENT.
pub const MAX_STATE: i32 = 8;

/// Every state in numeric order.
pub const ALL_STATES: [State; 8] = [
    State::Stopped,
    State::Starting,
    State::Running,
    State::Stopping,
    State::Aborting,
    State::Freezing,
    State::Frozen,
    State::Thawed,
];

impl State {
    /// LXC's upper-case name (`lxc_state2str`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Stopped => "STOPPED",
            State::Starting => "STARTING",
            State::Running => "RUNNING",
            State::Stopping => "STOPPING",
            State::Aborting => "ABORTING",
            State::Freezing => "FREEZING",
            State::Frozen => "FROZEN",
            State::Thawed => "THAWED",
        }
    }

    /// The state with this wire number, if any.
    pub fn from_i32(n: i32) -> Option<State> {
        usize::try_from(n).ok().and_then(|i| ALL_STATES.get(i).copied())
    }

    /// The wire number.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// The state a monitor records when it serves `self` (LXC records THAWED as RUNNING).
    pub fn recorded(self) -> State {
        if self == State::Thawed {
            State::Running
        } else {
            self
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown state name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid state '{0}'")]
pub struct BadState(pub String);

impl FromStr for State {
    type Err = BadState;
    /// LXC's `lxc_str2state`: exact upper-case names.
    fn from_str(s: &str) -> Result<State, BadState> {
        ALL_STATES.iter().copied().find(|st| st.as_str() == s).ok_or_else(|| BadState(s.to_string()))
    }
}

/// Parse LXC's `"S1|S2|..."` list (as `lxc-wait -s` takes it) into the 8-slot array that
/// ADD_STATE_CLIENT sends (1 = wanted).
pub fn parse_state_list(s: &str) -> Result<[i32; 8], BadState> {
    let mut out = [0i32; 8];
    for part in s.split('|') {
        let st: State = part.trim().parse()?;
        out[st as usize] = 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_match_lxc() {
        for (i, st) in ALL_STATES.iter().enumerate() {
            assert_eq!(st.as_i32(), i as i32);
            assert_eq!(State::from_i32(i as i32), Some(*st));
            assert_eq!(st.as_str().parse::<State>(), Ok(*st));
        }
        assert_eq!(State::from_i32(8), None);
        assert_eq!(State::from_i32(-1), None);
        assert!("running".parse::<State>().is_err());
    }

    #[test]
    fn state_lists() {
        assert_eq!(parse_state_list("RUNNING|STOPPED").expect("ok"), [1, 0, 1, 0, 0, 0, 0, 0]);
        assert!(parse_state_list("RUNNING|NOPE").is_err());
    }
}
