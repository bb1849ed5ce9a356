//! memfd_create and sealing: sealed, anonymous copies of binaries, and executing an fd.
//!
//! [`crate::sealed_exe`] falls back to a sealed copy of the running tool when it cannot mount
//! its read-only overlay (CVE-2019-5736 class); the execute path injects `init.lxc` into a
//! container without a file in its rootfs the same way.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{MemfdFlags, SealFlags};

/// The seals every copy gets: no more writes, no resizing, no removing seals.
fn all_seals() -> SealFlags {
    SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE
}

/// Copy everything readable from `src` into a new memfd named `name` and seal it. The fd is
/// close-on-exec; executing it with [`exec_fd`] still works for ELF binaries.
pub fn sealed_copy<Fd: AsFd>(src: Fd, name: &str) -> io::Result<OwnedFd> {
    let memfd = rustix::fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    let mut from = File::from(src.as_fd().try_clone_to_owned()?);
    let mut to = File::from(memfd);
    io::copy(&mut from, &mut to)?;
    let memfd: OwnedFd = to.into();
    rustix::fs::fcntl_add_seals(&memfd, all_seals())?;
    rustix::fs::seek(&memfd, rustix::fs::SeekFrom::Start(0))?;
    Ok(memfd)
}

/// A sealed memfd copy of the file at `path`.
pub fn sealed_copy_of_path(path: &Path, name: &str) -> io::Result<OwnedFd> {
    let f = File::open(path)?;
    sealed_copy(&f, name)
}

/// Whether `fd` is a memfd carrying all of our seals.
pub fn is_sealed<Fd: AsFd>(fd: Fd) -> bool {
    rustix::fs::fcntl_get_seals(fd).map(|s| s.contains(all_seals())).unwrap_or(false)
}

fn cstrings<I: IntoIterator<Item = Vec<u8>>>(items: I) -> io::Result<Vec<CString>> {
    items
        .into_iter()
        .map(|b| CString::new(b).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in argument")))
        .collect()
}

/// execveat(fd, "", argv, envp, AT_EMPTY_PATH): execute the program an fd refers to. Only
/// returns on failure.
pub fn exec_fd(fd: BorrowedFd<'_>, argv: &[OsString], envp: &[OsString]) -> io::Error {
    let argv_c = match cstrings(argv.iter().map(|a| a.as_bytes().to_vec())) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let envp_c = match cstrings(envp.iter().map(|a| a.as_bytes().to_vec())) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut argv_p: Vec<*const libc::c_char> = argv_c.iter().map(|c| c.as_ptr()).collect();
    argv_p.push(std::ptr::null());
    let mut envp_p: Vec<*const libc::c_char> = envp_c.iter().map(|c| c.as_ptr()).collect();
    envp_p.push(std::ptr::null());
    let empty = c"";
    // SAFETY: argv/envp are NULL-terminated arrays of pointers into CStrings that outlive the
    // call; the path is a valid empty C string; on success the call does not return.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            empty.as_ptr(),
            argv_p.as_ptr(),
            envp_p.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
    }
    io::Error::last_os_error()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::path::PathBuf;

    #[test]
    fn sealed_copy_has_same_bytes_and_refuses_writes() {
        let dir = tempfile_dir();
        let p = dir.join("src");
        std::fs::write(&p, b"hello sealed world").expect("write");
        let fd = sealed_copy_of_path(&p, "test").expect("copy");
        assert!(is_sealed(&fd));
        let mut s = String::new();
        File::from(fd.try_clone().expect("dup")).read_to_string(&mut s).expect("read");
        assert_eq!(s, "hello sealed world");
        assert!(rustix::io::write(&fd, b"x").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("rlxc-memfd-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }
}
