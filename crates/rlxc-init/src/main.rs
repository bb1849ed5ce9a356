//! init.lxc: the minimal PID 1 for application containers (lxc-execute). Not implemented yet.

fn main() {
    eprintln!("init.lxc: not implemented in rlxc yet");
    std::process::exit(1);
}
