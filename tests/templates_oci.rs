//! `lxc-create -t oci -- -u oci:LAYOUT:TAG`: a real OCI image made in the test with umoci (a
//! layer from the busybox rootfs, entrypoint/cmd, env, user and workdir set with `umoci
//! config`) becomes an application container: the config carries `lxc.execute.cmd`,
//! `lxc.environment`, `lxc.init.uid/gid`, `lxc.init.cwd` and includes `oci.common.conf`, and
//! lxc-execute runs the entrypoint as that user, in that directory, with that environment.
//! Bad URLs fail cleanly.

mod templates_common;

use std::path::Path;

use rlxc_suite::{repo_root, run_ok, HostState, Lxcpath};
use templates_common::*;

/// An OCI layout at `dir/layout` with tag `t1`.
fn build_layout(dir: &Path) -> String {
    let layout = dir.join("layout");
    let tree = dir.join("tree");
    let image = format!("{}:t1", path_str(&layout));
    run_ok("umoci", &["init", "--layout", path_str(&layout)]);
    run_ok("umoci", &["new", "--image", &image]);
    run_ok(repo_root().join("../shared/tools/rootfs"), &["busybox", path_str(&tree)]);
    std::fs::write(tree.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1234:1235:app:/home/app:/bin/sh\n")
        .expect("write passwd");
    std::fs::create_dir_all(tree.join("srv/app")).expect("mkdir workdir");
    run_ok("umoci", &["insert", "--image", &image, path_str(&tree), "/"]);
    run_ok(
        "umoci",
        &[
            "config",
            "--image",
            &image,
            "--config.entrypoint",
            "/bin/sh",
            "--config.entrypoint",
            "-c",
            "--config.cmd",
            "echo \"entrypoint ran as $(id -u):$(id -g) in $(pwd) with GREETING=$GREETING\"",
            "--config.env",
            "GREETING=hello world",
            "--config.workingdir",
            "/srv/app",
            "--config.user",
            "app",
        ],
    );
    std::fs::remove_dir_all(&tree).expect("remove tree");
    format!("oci:{image}")
}

#[test]
fn oci_image_becomes_an_application_container() {
    let t = "oci_image_becomes_an_application_container";
    if !ready(t, &["skopeo", "umoci", "jq"]) {
        return;
    }
    let scratch = Scratch::new("oci");
    let url = build_layout(&scratch.0);
    let cache = scratch.0.join("cache");
    let lp = Lxcpath::new("toci");
    let before = HostState::capture(lp.as_str());
    let net = net_empty_conf(&scratch.0);
    // Once with the shared blob cache (kept under LXC_CACHE_PATH), once without.
    for (tag, extra) in [("toci", None), ("tocin", Some("--no-cache"))] {
        let name = unique(tag);
        let create = rlxc_suite::tool("lxc-create");
        let mut cmd = std::process::Command::new(create);
        cmd.args(["-P", lp.as_str(), "-n", &name, "-f", path_str(&net), "-t", "oci", "--", "-u", &url])
            .args(extra)
            .env("LXC_CACHE_PATH", &cache)
            .stdin(std::process::Stdio::null());
        let o = cmd.output().expect("run lxc-create");
        assert!(o.status.success(), "lxc-create -t oci: {}", show(&o));
        let config = std::fs::read_to_string(lp.path.join(&name).join("config")).expect("config");
        for want in [
            "lxc.execute.cmd = '\"/bin/sh\" \"-c\" \"echo",
            "lxc.environment = GREETING=hello world",
            "lxc.init.uid = 1234",
            "lxc.init.gid = 1235",
            "lxc.init.cwd = /srv/app",
            "/oci.common.conf",
            "lxc.net.0.type = empty",
            &format!("lxc.uts.name = {name}"),
        ] {
            assert!(config.contains(want), "{want:?} in the config:\n{config}");
        }
        let inc = config
            .lines()
            .filter_map(|l| l.strip_prefix("lxc.include = "))
            .find(|p| p.ends_with("/oci.common.conf"))
            .expect("oci.common.conf included");
        assert!(Path::new(inc).exists(), "{inc} exists");
        let o = lp.lxc("execute", &["-n", &name]);
        assert!(o.status.success(), "lxc-execute: {}", show(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("entrypoint ran as 1234:1235 in /srv/app with GREETING=hello world"),
            "the entrypoint ran with the image's user, workdir and env: {}",
            show(&o)
        );
        let mut entries: Vec<String> = std::fs::read_dir(lp.path.join(&name))
            .expect("container dir")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        entries.sort();
        assert_eq!(entries, ["config", "rootfs"], "no unpack leftovers next to the rootfs");
        destroy_and_check(&lp, &name, &before);
    }
    assert!(cache.join("sha256").is_dir(), "shared blobs cached under LXC_CACHE_PATH");

    // A tag the layout does not have, a layout that does not exist, no URL: clean failures.
    let name = unique("tocibad");
    let missing_tag = url.replace(":t1", ":nosuch");
    for (args, why) in [
        (vec!["-u", missing_tag.as_str(), "--no-cache"], "skopeo cannot copy the image"),
        (vec!["-u", "oci:/nonexistent/rlxc-layout:t1", "--no-cache"], "skopeo cannot copy the image"),
        (vec![], "-u/--url URL is required"),
        (vec!["-u", url.as_str(), "--password", "x"], "--password given without --username"),
    ] {
        let mut full = vec!["-n", name.as_str(), "-t", "oci", "--"];
        full.extend(args);
        let o = lp.lxc("create", &full);
        assert_create_failed(&o, &lp, &name, why);
    }
    assert_clean(&before, &lp, &name);
}
