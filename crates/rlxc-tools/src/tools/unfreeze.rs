//! `lxc-unfreeze`: thaw a frozen container (THAWED, then RUNNING to state clients), the mirror
//! of `lxc-freeze` (UNFREEZE, 16, on pure cgroup2; the v1 `freezer.state` otherwise).

use super::cmd_common;
use super::freeze::freeze_thaw;

const HELP: &str = "--name=NAME

lxc-unfreeze unfreezes a container with the identifier NAME

Options :
  -n, --name=NAME   NAME of the container
  --rcfile=FILE     Load configuration file FILE
";

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let c = match cmd_common::parse("lxc-unfreeze", args, &[], HELP, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let name = c.name.clone().unwrap_or_default();
    if let Err(e) = rlxc_core::lxcpath::check_name(&name) {
        eprintln!("lxc-unfreeze: {name}: {e}");
        return 1;
    }
    match freeze_thaw(&name, &c.lxcpath, false) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("lxc-unfreeze: {name}: {e}");
            eprintln!("lxc-unfreeze: {name}: Failed to unfreeze {}:{name}", c.lxcpath);
            1
        }
    }
}
