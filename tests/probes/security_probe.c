/* rlxc security probe, run inside test containers (built static so a busybox rootfs runs it).
 *   probe in-container   try syscalls a container must not make; print "name=errno" (0 = allowed)
 *   probe keyring        print the serial of the session keyring
 *   probe ids            print the real and effective uid (setuid checks)
 *   probe selinux        print its own SELinux context and the label of its session keyring
 *   probe exe PID        what /proc/PID/exe is and whether it can be opened / written through
 *   probe hunt SECS      find a process whose exe is not busybox, stop it, report "exe" for it
 * Never writes to a file that is not a sealed memfd: on a vulnerable setup it reports that the
 * open for writing succeeded instead of damaging the host binary. "exe_fs" is the statfs magic of
 * the exe (794c7630: overlayfs, rlxc's private read-only overlay). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/reboot.h>

static void report(const char *name, long r) { printf("%s=%d\n", name, r < 0 ? errno : 0); }

static int exe_check(int pid) {
    char path[64], link[4096];
    snprintf(path, sizeof(path), "/proc/%d/exe", pid);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n < 0) { printf("exe_readlink=%d\n", errno); return 1; }
    link[n] = 0;
    printf("exe=%s\n", link);
    int ro = open(path, O_RDONLY | O_CLOEXEC);
    printf("open_read=%d\n", ro < 0 ? errno : 0);
    struct statfs sfs;
    if (ro >= 0 && fstatfs(ro, &sfs) == 0) printf("exe_fs=%lx\n", (unsigned long)sfs.f_type);
    int wr = open(path, O_WRONLY | O_CLOEXEC);
    printf("open_write=%d\n", wr < 0 ? errno : 0);
    if (wr >= 0) {
        if (strstr(link, "memfd:")) {
            ssize_t w = write(wr, "", 1);
            printf("write=%d\n", w < 0 ? errno : 0);
        } else {
            printf("write=skipped-real-file\n");
        }
        close(wr);
    }
    if (ro >= 0) close(ro);
    return 0;
}

static int not_busybox(int pid) {
    char path[64], link[4096];
    snprintf(path, sizeof(path), "/proc/%d/exe", pid);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n < 0) return 0;
    link[n] = 0;
    return strstr(link, "busybox") == NULL && strstr(link, "/probe") == NULL;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "keyring") == 0) {
        printf("keyring=%ld\n", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3L, 0L));
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "selinux") == 0) {
        char ctx[256] = "";
        FILE *f = fopen("/proc/self/attr/current", "r");
        if (f) { if (!fgets(ctx, sizeof(ctx), f)) ctx[0] = 0; fclose(f); }
        ctx[strcspn(ctx, "\n")] = 0;
        printf("context=%s\n", ctx);
        char label[256] = "";
        /* KEYCTL_GET_SECURITY (17) on KEY_SPEC_SESSION_KEYRING (-3) */
        long n = syscall(SYS_keyctl, 17, -3L, label, (long)sizeof(label) - 1);
        if (n < 0) printf("keyring_label_errno=%d\n", errno);
        else printf("keyring_label=%s\n", label);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "ids") == 0) {
        printf("uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "exe") == 0)
        return exe_check(atoi(argv[2]));
    if (argc > 2 && strcmp(argv[1], "hunt") == 0) {
        time_t end = time(NULL) + atoi(argv[2]);
        int self = getpid();
        while (time(NULL) < end) {
            DIR *d = opendir("/proc");
            struct dirent *e;
            while (d && (e = readdir(d))) {
                int pid = atoi(e->d_name);
                if (pid <= 1 || pid == self || !not_busybox(pid)) continue;
                kill(pid, SIGSTOP);
                printf("caught=%d\n", pid);
                exe_check(pid);
                /* CVE-2019-5736: keep a read fd of its exe, let it finish, then reopen for write. */
                char path[64], link[4096], fdpath[64];
                snprintf(path, sizeof(path), "/proc/%d/exe", pid);
                ssize_t n = readlink(path, link, sizeof(link) - 1);
                link[n < 0 ? 0 : n] = 0;
                int held = open(path, O_RDONLY);
                kill(pid, SIGCONT);
                for (int i = 0; i < 1000 && kill(pid, 0) == 0; i++) usleep(10000);
                if (held >= 0) {
                    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", held);
                    int wr = open(fdpath, O_WRONLY);
                    printf("reopen_write=%d\n", wr < 0 ? errno : 0);
                    if (wr >= 0 && strstr(link, "memfd:")) {
                        ssize_t w = write(wr, "", 1);
                        printf("reopen_write_data=%d\n", w < 0 ? errno : 0);
                    }
                    if (wr >= 0) close(wr);
                }
                closedir(d);
                printf("hunt=done\n");
                return 0;
            }
            if (d) closedir(d);
        }
        printf("hunt=timeout\n");
        return 0;
    }
    report("kexec_load", syscall(SYS_kexec_load, 0L, 0L, NULL, 0L));
    report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1L, NULL, 0L));
    report("init_module", syscall(SYS_init_module, NULL, 0L, NULL));
    report("finit_module", syscall(SYS_finit_module, -1L, NULL, 0L));
    report("delete_module", syscall(SYS_delete_module, NULL, 0L));
    /* Only inside a container: on the host this would change the Ctrl-Alt-Del setting. */
    if (argc > 1 && strcmp(argv[1], "in-container") == 0)
        report("reboot_cad_on", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_ON, NULL));
    report("umount2_force", syscall(SYS_umount2, "/nonexistent-rlxc-probe", 1L));
    return 0;
}

