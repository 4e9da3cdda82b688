/*
 * labproc: the fault lab's stand-ins for the processes that hung on the seed incident's node.
 *
 * One static binary, installed in the guest under the names it plays; the name it is started under
 * (argv[0]) picks the role, so the kernel's comm of the process is that name (the kernel keeps 15
 * characters: `qemu-system-x86_64` shows as `qemu-system-x86`, exactly as in the seed's hung-task
 * line). Started as `labproc ROLE ARGS...` the first argument is the role instead.
 *
 *   qemu-system-x86_64 -name guest=NAME -drive file=PATH,cache=none|writeback[,readonly=on] ...
 *       A VM's disk I/O in a loop, about five times a second:
 *       - cache=none on a block device (readonly=on): O_DIRECT reads of 64 KiB across the device;
 *       - cache=none on a file: O_DIRECT writes of 64 KiB, then fdatasync;
 *       - cache=writeback on a file: buffered writes of 64 KiB, each written back and waited for
 *         with sync_file_range(2).
 *       A file is created and filled to 4 MiB first. When the paths are gone the I/O queues in
 *       dm-multipath and the process sits in D state. Only the write-back wait gives the kernel's
 *       hung-task report: waits in submit_bio_wait() (O_DIRECT, and the cache flush that fdatasync
 *       ends with) wake every hung_task_timeout/2 and are never reported.
 *       Other qemu options are accepted and ignored, so `ps` shows a plausible command line.
 *
 *   libvirtd [--state-dir DIR]
 *       Every second: forks a worker that exits at once, rewrites DIR/instance-<n>.xml in place
 *       (default /var/lib/libvirt/qemu) and fsyncs it, and only then reaps the worker. While the fsync hangs
 *       the worker stays <defunct>: a zombie whose parent `libvirtd` is in D state, as on the seed
 *       node.
 *
 * Both roles print one line to stderr when they start and when an I/O call fails, and run until
 * killed. SIGCHLD is reset to its default so zombies are never reaped behind the lab's back.
 *
 * Build: gcc -static -O2 -Wall -Wextra -o labproc labproc.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
#define FILE_SIZE (4 * 1024 * 1024)

static const char *role_name = "labproc";

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s[%d]: %s\n", role_name, (int)getpid(), buf);
}

static void nap_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Value of KEY=... inside a comma-separated qemu option string, copied into out. */
static int opt_value(const char *opts, const char *key, char *out, size_t cap) {
    size_t klen = strlen(key);
    const char *p = opts;
    while (p && *p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t n = strcspn(v, ",");
            if (n >= cap) n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = strchr(p, ',');
        if (p) p++;
    }
    return 0;
}

static void *aligned_buffer(char fill) {
    void *buf = NULL;
    if (posix_memalign(&buf, 4096, CHUNK) != 0) {
        say("cannot allocate an aligned buffer");
        exit(1);
    }
    memset(buf, fill, CHUNK);
    return buf;
}

static int run_qemu(int argc, char **argv) {
    const char *drive = NULL;
    char name[128] = "guest";
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "-drive") == 0) drive = argv[++i];
        else if (strcmp(argv[i], "-name") == 0) opt_value(argv[++i], "guest", name, sizeof name);
    }
    char path[4096], cache[32] = "writeback", ro[8] = "off";
    if (!drive || !opt_value(drive, "file", path, sizeof path)) {
        say("usage: qemu-system-x86_64 -name guest=NAME -drive file=PATH,cache=none|writeback[,readonly=on]");
        return 2;
    }
    opt_value(drive, "cache", cache, sizeof cache);
    opt_value(drive, "readonly", ro, sizeof ro);
    int direct = strcmp(cache, "none") == 0;
    int readonly = strcmp(ro, "on") == 0;

    struct stat st;
    int is_blockdev = stat(path, &st) == 0 && S_ISBLK(st.st_mode);
    if (is_blockdev && !readonly) {
        /* The lab's map carries a mounted ext4: writing the raw device would corrupt it. */
        say("refusing to write the block device %s (use readonly=on)", path);
        return 2;
    }
    int flags = (readonly ? O_RDONLY : O_RDWR | O_CREAT) | (direct ? O_DIRECT : 0);
    int fd = open(path, flags, 0644);
    if (fd < 0) {
        say("open %s: %s", path, strerror(errno));
        return 1;
    }
    off_t size = FILE_SIZE;
    if (is_blockdev) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end > CHUNK) size = end;
    } else if (!readonly && fstat(fd, &st) == 0 && st.st_size < FILE_SIZE) {
        char *fill = aligned_buffer('\0');
        for (off_t off = 0; off < FILE_SIZE; off += CHUNK) {
            if (pwrite(fd, fill, CHUNK, off) != CHUNK) {
                say("filling %s: %s", path, strerror(errno));
                return 1;
            }
        }
        fdatasync(fd);
        free(fill);
    }
    say("%s: %s %s of %s (%s)", name, readonly ? "reading" : "writing", direct ? "O_DIRECT" : "buffered+sync_file_range",
        path, is_blockdev ? "block device" : "file");

    char *buf = aligned_buffer('q');
    unsigned long n = 0;
    int failing = 0;
    for (;;) {
        off_t off = (off_t)((n * 7919UL) % (unsigned long)(size / CHUNK)) * CHUNK;
        ssize_t r = readonly ? pread(fd, buf, CHUNK, off) : pwrite(fd, buf, CHUNK, off);
        int rc = r == CHUNK ? 0 : -1;
        if (rc == 0 && !readonly)
            rc = direct ? fdatasync(fd)
                        : sync_file_range(fd, off, CHUNK,
                                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
        if (rc != 0 && !failing) say("I/O on %s at offset %lld failed: %s", path, (long long)off, strerror(errno));
        if (rc == 0 && failing) say("I/O on %s works again", path);
        failing = rc != 0;
        n++;
        nap_ms(200);
    }
}

static int run_libvirtd(int argc, char **argv) {
    const char *dir = "/var/lib/libvirt/qemu";
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--state-dir") == 0) dir = argv[++i];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        say("mkdir %s: %s", dir, strerror(errno));
        return 1;
    }
    say("keeping domain state in %s", dir);
    unsigned long n = 0;
    int failing = 0;
    for (;;) {
        /* A worker (in libvirtd: a forked helper for a monitor or a hook) that is done at once. */
        pid_t child = fork();
        if (child == 0) _exit(0);
        if (child < 0) say("fork: %s", strerror(errno));

        char path[4096], xml[256];
        snprintf(path, sizeof path, "%s/instance-%08lx.xml", dir, n % 4 + 1);
        /* Same length every time, rewritten in place: no truncation, so the wait is in fsync. */
        int len = snprintf(xml, sizeof xml, "<domstatus state='running' pid='%08d'><!-- update %012lu --></domstatus>\n",
                           (int)getpid(), n);
        int fd = open(path, O_WRONLY | O_CREAT, 0600);
        int rc = fd < 0 ? -1 : 0;
        if (rc == 0 && pwrite(fd, xml, (size_t)len, 0) != len) rc = -1;
        if (rc == 0) rc = fsync(fd); /* hangs here while the map has no path; the worker stays <defunct> */
        if (rc != 0 && !failing) say("saving %s failed: %s", path, strerror(errno));
        if (rc == 0 && failing) say("saving %s works again", path);
        failing = rc != 0;
        if (fd >= 0) close(fd);

        if (child > 0) waitpid(child, NULL, 0);
        n++;
        nap_ms(1000);
    }
}

int main(int argc, char **argv) {
    /* An inherited SIG_IGN would make the kernel reap children itself: no zombie, no lab. */
    signal(SIGCHLD, SIG_DFL);
    setvbuf(stderr, NULL, _IOLBF, 0);
    char *self = strdup(argv[0]);
    const char *role = basename(self);
    if (strcmp(role, "labproc") == 0) {
        if (argc < 2) {
            fprintf(stderr, "usage: labproc qemu-system-x86_64|libvirtd ARGS...\n");
            return 2;
        }
        role = argv[1];
        argv++;
        argc--;
        prctl(PR_SET_NAME, role, 0, 0, 0);
    }
    role_name = role;
    if (strcmp(role, "qemu-system-x86_64") == 0) return run_qemu(argc, argv);
    if (strcmp(role, "libvirtd") == 0) return run_libvirtd(argc, argv);
    fprintf(stderr, "labproc: unknown role %s (qemu-system-x86_64 or libvirtd)\n", role);
    return 2;
}
