//! `lxc-create`: make a container (config, rootfs through the storage backend, template).

use std::path::PathBuf;

use rlxc_core::container::{Container, CreateOptions};

use super::start::parse_cli;
use crate::args::Opt;

const OPTS: &[Opt] = &[
    Opt::arg('t', "template"),
    Opt::arg('f', "config"),
    Opt::arg('B', "bdev"),
    Opt::long_arg("dir"),
    Opt::long_arg("lvname"),
    Opt::long_arg("vgname"),
    Opt::long_arg("thinpool"),
    Opt::long_arg("rbdname"),
    Opt::long_arg("rbdpool"),
    Opt::long_arg("zfsroot"),
    Opt::long_arg("fstype"),
    Opt::long_arg("fssize"),
];

const HELP: &str = "--name=NAME --template=TEMPLATE [OPTION...] [-- template-options]

lxc-create creates a container

Options :
  -n, --name=NAME               NAME of the container
  -f, --config=CONFIG           Initial configuration file
  -t, --template=TEMPLATE       Template to use to setup container
  -B, --bdev=BDEV               Backing store type to use
      --dir=DIR                 Place rootfs directory under DIR

  BDEV options for LVM (with -B/--bdev lvm):
      --lvname=LVNAME           Use LVM lv name LVNAME
                                (Default: container name)
      --vgname=VG               Use LVM vg called VG
                                (Default: lxc)
      --thinpool=TP             Use LVM thin pool called TP
                                (Default: lxc)

  BDEV options for LVM or Loop (with -B/--bdev lvm/loop) :
      --fstype=TYPE             Create fstype TYPE
                                (Default: ext4)
      --fssize=SIZE[U]          Create filesystem of
                                size SIZE * unit U (bBkKmMgGtT)
                                (Default: 1G, default unit: M)
";

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let cli = match parse_cli("lxc-create", args, OPTS, HELP, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let prog = cli.prog;
    let p = &cli.parsed;
    // As LXC: a template is required; `-t none` asks for a container without one.
    let template = match p.value("template") {
        None => {
            eprintln!("{prog}: {}: A template must be specified.", cli.name);
            eprintln!("{prog}: {}: Use \"none\" if you really want a container without a rootfs.", cli.name);
            return 1;
        }
        Some("none") => None,
        Some(t) => Some(t.to_string()),
    };
    if let Err(e) = std::fs::create_dir_all(&cli.lxcpath) {
        eprintln!("{prog}: {}: cannot create lxcpath {}: {e}", cli.name, cli.lxcpath);
        return 1;
    }
    let mut c = match Container::new(&cli.name, &cli.lxcpath, None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{prog}: {}: {e}", cli.name);
            return 1;
        }
    };
    if c.is_defined() {
        eprintln!("{prog}: {}: Container already exists", cli.name);
        return 1;
    }
    // --fssize SIZE[bBkKmMgGtT] (LXC's parse_byte_size_string).
    let fssize = match p.value("fssize").map(rlxc_core::clone::parse_fssize) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(e)) => {
            eprintln!("{prog}: {}: --fssize: {e}", cli.name);
            return 1;
        }
    };
    let o = CreateOptions {
        template,
        config_file: p.value("config").map(PathBuf::from),
        bdev: p.value("bdev").map(str::to_string),
        fssize,
        fstype: p.value("fstype").map(str::to_string),
        vgname: p.value("vgname").map(str::to_string),
        lvname: p.value("lvname").map(str::to_string),
        thinpool: p.value("thinpool").map(str::to_string),
        dir: p.value("dir").map(PathBuf::from),
        template_args: p.trailing.clone(),
    };
    match c.create(&o) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{prog}: {}: {e}", cli.name);
            eprintln!("{prog}: {}: Failed to create container {}", cli.name, cli.name);
            1
        }
    }
}
