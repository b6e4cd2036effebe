/*
 * Benchline guest init: PID 1 of every microVM.
 *
 * It is a static binary so that it works in any image (no shell, no libc, or a musl image all look
 * the same to it). It reads the job the host packed into the initramfs, runs the command, then
 * sends everything back over a channel that only it writes to, and powers the VM off.
 *
 * Trust model: the command is the user's code and runs as root in the guest. Its stdout and stderr
 * go to pipes that init drains into files, never to the channel. Every frame carries a per-job
 * nonce that only init knows (the job file is unlinked after reading, init is not dumpable, and
 * the command loses the capabilities that could read init's memory or reach the channel device:
 * it keeps Docker's default set, which is what OCI images are written for). So neither program
 * output nor a deliberate write to the device can produce a frame the host would accept.
 *
 * Job file format (written by runner/guest/job-config.ts): NUL-terminated fields, in order:
 *   magic, mode, nonce (32 hex), channel, modc, modules..., epoch_ms, timeout_ms, max_total_bytes,
 *   max_files, cwd, argc, argv..., envc, env..., filec, files..., "end"
 * Channels: "dev:<path>" (a virtio-serial port: fast, needs the modules listed in the job),
 * "ioport:<port>" (QEMU's isa-debugcon: no driver at all), "tty:<path>" (a UART, e.g. Firecracker's).
 * Frame format (decoded by runner/guest/protocol.ts), all integers big-endian:
 *   "BLCH" | nonce (16 bytes) | seq u32 | type u8 | len u32 | payload | crc32(seq..payload) u32
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define JOB_PATH "/.benchline/job"
#define OUT_DIR "/.benchline/out"
#define JOB_MAGIC "benchline-job-1"
#define CHUNK 65536
#define MAX_ERRORS 4096

enum { EXIT_KIND_EXITED = 0, EXIT_KIND_SIGNALED = 1, EXIT_KIND_TIMED_OUT = 2, EXIT_KIND_NOT_STARTED = 3 };

/* ------------------------------------------------------------------ console (diagnostics only) */

static int console_fd = -1;

static void say(const char *fmt, ...) {
  if (console_fd < 0) return;
  va_list ap;
  va_start(ap, fmt);
  dprintf(console_fd, "benchline-init: ");
  vdprintf(console_fd, fmt, ap);
  dprintf(console_fd, "\n");
  va_end(ap);
}

static void power_off(void) {
  sync();
  reboot(RB_POWER_OFF);
  /* No ACPI power-off (e.g. Firecracker): a reset makes the VMM exit instead. */
  reboot(RB_AUTOBOOT);
  for (;;) pause();
}

static void die(const char *what) {
  say("%s: %s", what, strerror(errno));
  power_off();
}

/* ------------------------------------------------------------------ channel and frames */

static uint8_t nonce[16];
static uint32_t frame_seq;
static int chan_fd = -1;            /* tty or virtio-serial channel */
static unsigned short chan_port;    /* I/O port channel (QEMU isa-debugcon) */
static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n) {
  crc = ~crc;
  while (n--) crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static void chan_write(const void *data, size_t n) {
  const uint8_t *p = data;
  if (chan_fd < 0) {
    /* rep outsb: one VM exit per batch under KVM rather than one per byte. */
    while (n > 0) {
      size_t k = n > 4096 ? 4096 : n;
      outsb(chan_port, p, k);
      p += k;
      n -= k;
    }
    return;
  }
  while (n > 0) {
    ssize_t w = write(chan_fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die("channel write");
    p += w;
    n -= (size_t)w;
  }
}

static void send_frame(char type, const void *payload, uint32_t len) {
  uint8_t hdr[29], trailer[4];
  memcpy(hdr, "BLCH", 4);
  memcpy(hdr + 4, nonce, 16);
  put_be32(hdr + 20, frame_seq++);
  hdr[24] = (uint8_t)type;
  put_be32(hdr + 25, len);
  uint32_t crc = crc_update(0, hdr + 20, 9);
  crc = crc_update(crc, payload, len);
  put_be32(trailer, crc);
  chan_write(hdr, sizeof hdr);
  chan_write(payload, len);
  chan_write(trailer, sizeof trailer);
}

/* Drivers the channel needs (virtio-serial), loaded before it is opened; the command cannot load any. */
static void load_modules(char **modules) {
  for (; *modules; modules++) {
    int fd = open(*modules, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(*modules);
    if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST) die(*modules);
    close(fd);
  }
}

static void open_channel(const char *spec) {
  if (strncmp(spec, "dev:", 4) == 0) {
    /* The port's node appears once its driver has probed the device, asynchronously. */
    for (int waited = 0; chan_fd < 0 && waited < 10000; waited++) {
      chan_fd = open(spec + 4, O_RDWR | O_NOCTTY | O_CLOEXEC); /* read: the host's final acknowledgement */
      if (chan_fd < 0 && errno != ENOENT && errno != ENXIO) break;
      if (chan_fd < 0) usleep(1000);
    }
    if (chan_fd < 0) die("open channel device");
    unlink(spec + 4); /* as for the tty below */
  } else if (strncmp(spec, "ioport:", 7) == 0) {
    chan_port = (unsigned short)strtoul(spec + 7, NULL, 0);
    if (ioperm(chan_port, 1, 1) != 0) die("ioperm");
  } else if (strncmp(spec, "tty:", 4) == 0) {
    chan_fd = open(spec + 4, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (chan_fd < 0) die("open channel tty");
    /* Raw mode: no newline translation may touch binary frames. */
    struct termios tio;
    if (tcgetattr(chan_fd, &tio) == 0) {
      cfmakeraw(&tio);
      cfsetspeed(&tio, B115200);
      tcsetattr(chan_fd, TCSANOW, &tio);
    }
    /* The node is gone for the command, which also lacks CAP_MKNOD and CAP_SYS_ADMIN to recreate it. */
    unlink(spec + 4);
  } else {
    errno = EINVAL;
    die("unknown channel");
  }
}

/* Every byte must have reached the host before power-off. */
static void close_channel(void) {
  if (chan_fd < 0) return; /* I/O port writes are synchronous */
  if (isatty(chan_fd)) {
    tcdrain(chan_fd);
    return;
  }
  /* A virtio port's write returns once the data is queued, not once QEMU has passed it on, so a
   * power-off could lose the tail. The host acknowledges the end frame with a byte: wait for it. */
  struct pollfd p = {chan_fd, POLLIN, 0};
  char ack;
  if (poll(&p, 1, 10000) > 0) (void)!read(chan_fd, &ack, 1);
}

/* Errors for the user, in words; sent as 'R' frames before the end frame. */
static char errors[MAX_ERRORS];
static size_t errors_len;

static void report(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
  if (errors_len + (size_t)n + 1 > sizeof errors) return;
  memcpy(errors + errors_len, msg, (size_t)n + 1);
  errors_len += (size_t)n + 1;
}

/* ------------------------------------------------------------------ job file */

struct job {
  const char *mode, *channel, *cwd;
  uint64_t epoch_ms, timeout_ms, max_total, max_files;
  char **modules, **argv, **envp, **files;
  size_t nfiles;
};

static char *job_buf, *job_pos, *job_end;

static char *field(void) {
  char *s = job_pos;
  char *nul = job_pos < job_end ? memchr(job_pos, 0, (size_t)(job_end - job_pos)) : NULL;
  if (!nul) {
    say("job file truncated");
    power_off();
  }
  job_pos = nul + 1;
  return s;
}

static uint64_t number(void) {
  char *s = field(), *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *s == 0 || *end != 0) {
    say("job file: bad number '%s'", s);
    power_off();
  }
  return v;
}

static char **string_list(size_t *count) {
  size_t n = number();
  if (n > 1u << 20) {
    say("job file: list too long");
    power_off();
  }
  char **list = calloc(n + 1, sizeof *list);
  if (!list) die("calloc");
  for (size_t i = 0; i < n; i++) list[i] = field();
  if (count) *count = n;
  return list;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static void read_job(struct job *job) {
  int fd = open(JOB_PATH, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open " JOB_PATH);
  struct stat st;
  if (fstat(fd, &st) != 0) die("stat job");
  job_buf = malloc((size_t)st.st_size + 1);
  if (!job_buf) die("malloc");
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, job_buf + got, (size_t)st.st_size - got);
    if (r <= 0) die("read job");
    got += (size_t)r;
  }
  close(fd);
  /* Nobody else may learn the nonce. */
  unlink(JOB_PATH);
  job_pos = job_buf;
  job_end = job_buf + got;

  if (strcmp(field(), JOB_MAGIC) != 0) {
    say("job file: bad magic");
    power_off();
  }
  job->mode = field();
  const char *hex = field();
  if (strlen(hex) != 32) {
    say("job file: bad nonce");
    power_off();
  }
  for (int i = 0; i < 16; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      say("job file: bad nonce");
      power_off();
    }
    nonce[i] = (uint8_t)(hi << 4 | lo);
  }
  job->channel = field();
  job->modules = string_list(NULL);
  job->epoch_ms = number();
  job->timeout_ms = number();
  job->max_total = number();
  job->max_files = number();
  job->cwd = field();
  job->argv = string_list(NULL);
  job->envp = string_list(NULL);
  job->files = string_list(&job->nfiles);
  if (strcmp(field(), "end") != 0) {
    say("job file: missing end marker");
    power_off();
  }
}

/* ------------------------------------------------------------------ machine setup */

static void mount_fs(const char *src, const char *dir, const char *type, unsigned long flags, const char *data) {
  mkdir(dir, 0755);
  if (mount(src, dir, type, flags, data) != 0) say("mount %s: %s", dir, strerror(errno));
}

static void setup_machine(uint64_t epoch_ms) {
  mount_fs("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  if (console_fd < 0) console_fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  mount_fs("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_fs("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_fs("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620");
  mount_fs("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mount_fs("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");

  /* There is no RTC worth trusting in a microVM: take the host's wall clock. */
  struct timespec ts = {.tv_sec = (time_t)(epoch_ms / 1000), .tv_nsec = (long)(epoch_ms % 1000) * 1000000};
  clock_settime(CLOCK_REALTIME, &ts);
  sethostname("benchline", 9);

  /* Loopback only: the VM has no network device, but programs may talk to themselves. */
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s >= 0) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
      ifr.ifr_flags |= IFF_UP;
      if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) say("lo up: %s", strerror(errno));
    }
    close(s);
  }
  /* Not dumpable: the command cannot read init's memory through /proc/1/mem or ptrace. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------------------ the command */

/*
 * Docker's default capability set, which is what OCI images expect, less CAP_MKNOD (it could recreate
 * the channel's device node). Gone in particular: CAP_SYS_RAWIO (I/O ports), CAP_SYS_PTRACE (init's
 * memory), CAP_SYS_MODULE and CAP_SYS_ADMIN (a new devtmpfs, BPF).
 */
static const int kept_caps[] = {
    CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER,     CAP_SETGID,           CAP_SETUID,    CAP_SETFCAP,
    CAP_SETPCAP, CAP_NET_RAW,     CAP_SYS_CHROOT, CAP_KILL,   CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE,
};

static int drop_capabilities(void) {
  uint64_t keep = 0;
  for (size_t i = 0; i < sizeof kept_caps / sizeof kept_caps[0]; i++) keep |= 1ull << kept_caps[i];
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ull << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return -1;
  }
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = data[i].permitted = data[i].inheritable = (uint32_t)(keep >> (32 * i));
  }
  return (int)syscall(SYS_capset, &hdr, data);
}

enum { STAGE_CWD = 1, STAGE_CAPS = 2, STAGE_EXEC = 3 };
struct child_failure {
  int stage, err;
};

/* Runs in the forked child; only returns on failure, after telling the parent why. */
static void exec_command(const struct job *job, int status_fd, int out_fd, int err_fd) {
  struct child_failure f = {0, 0};
  setsid(); /* own process group: a timeout kills the whole tree */
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  if (chdir(job->cwd) != 0) f = (struct child_failure){STAGE_CWD, errno};
  else if (drop_capabilities() != 0) f = (struct child_failure){STAGE_CAPS, errno};
  else {
    environ = job->envp; /* execvp searches the job's PATH, not init's */
    execvp(job->argv[0], job->argv);
    f = (struct child_failure){STAGE_EXEC, errno};
  }
  (void)!write(status_fd, &f, sizeof f);
  _exit(127);
}

static char *resolve(const struct job *job, const char *path);

static void describe_failure(const struct job *job, struct child_failure f) {
  const char *cmd = job->argv[0];
  char *full = resolve(job, cmd);
  if (f.stage == STAGE_CWD) {
    report("cannot enter working directory %s: %s", job->cwd, strerror(f.err));
  } else if (f.stage == STAGE_CAPS) {
    report("cannot drop capabilities: %s", strerror(f.err));
  } else if (f.err == ENOENT && strchr(cmd, '/') && access(full, F_OK) == 0) {
    report("entrypoint %s exists but its interpreter or loader is missing from the image", cmd);
  } else if (f.err == ENOENT) {
    report("entrypoint not found in the image: %s", cmd);
  } else if (f.err == EACCES) {
    report("entrypoint is not executable: %s (%s)", cmd, strerror(f.err));
  } else if (f.err == ENOEXEC) {
    report("entrypoint is not a valid executable for this machine: %s", cmd);
  } else {
    report("cannot execute entrypoint %s: %s", cmd, strerror(f.err));
  }
  free(full);
}

/* Like Docker, a missing working directory is created (with its parents). */
static void mkdir_p(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n >= sizeof buf) return;
  memcpy(buf, path, n + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    mkdir(buf, 0755);
    *p = '/';
  }
  mkdir(buf, 0755);
}

struct sink {
  const char *name;
  int pipe_fd, file_fd;
  uint64_t kept, total;
};

/* Keeps at most `cap` bytes; the rest is read and dropped so the command never blocks on a full pipe. */
static void drain_once(struct sink *s, uint64_t cap, char *buf) {
  ssize_t r = read(s->pipe_fd, buf, CHUNK);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (r <= 0) {
    close(s->pipe_fd);
    s->pipe_fd = -1;
    return;
  }
  s->total += (uint64_t)r;
  uint64_t room = cap - s->kept, k = (uint64_t)r < room ? (uint64_t)r : room;
  if (k > 0 && write(s->file_fd, buf, k) == (ssize_t)k) s->kept += k;
}

static void kill_everything(void) {
  kill(-1, SIGKILL); /* from PID 1 this is every process but init, daemons that escaped included */
}

struct outcome {
  int kind, code;
  uint64_t duration_us;
};

static struct outcome run_command(const struct job *job, struct sink sinks[2]) {
  struct outcome out = {EXIT_KIND_NOT_STARTED, 0, 0};
  int status_pipe[2], pipes[2][2];
  if (pipe2(status_pipe, O_CLOEXEC) || pipe2(pipes[0], O_CLOEXEC) || pipe2(pipes[1], O_CLOEXEC)) die("pipe");
  mkdir_p(job->cwd);

  uint64_t start = now_us();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) exec_command(job, status_pipe[1], pipes[0][1], pipes[1][1]);
  close(status_pipe[1]);
  close(pipes[0][1]);
  close(pipes[1][1]);
  for (int i = 0; i < 2; i++) {
    sinks[i].pipe_fd = pipes[i][0];
    fcntl(sinks[i].pipe_fd, F_SETFL, O_NONBLOCK);
  }

  /* The status pipe closes on a successful exec (O_CLOEXEC) or carries the reason it failed. */
  struct child_failure f;
  ssize_t got;
  do got = read(status_pipe[0], &f, sizeof f);
  while (got < 0 && errno == EINTR);
  close(status_pipe[0]);
  if (got == (ssize_t)sizeof f) {
    describe_failure(job, f);
    waitpid(pid, NULL, 0);
    for (int i = 0; i < 2; i++) close(sinks[i].pipe_fd), sinks[i].pipe_fd = -1;
    return out;
  }
  send_frame('S', NULL, 0);

  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) die("pidfd_open");
  char *buf = malloc(CHUNK);
  if (!buf) die("malloc");
  uint64_t deadline = start + job->timeout_ms * 1000u;
  int status = 0, exited = 0;
  while (!exited) {
    uint64_t now = now_us();
    if (now >= deadline) {
      kill(-pid, SIGKILL);
      kill_everything();
      waitpid(pid, &status, 0);
      out.kind = EXIT_KIND_TIMED_OUT;
      break;
    }
    struct pollfd pfd[3] = {{pidfd, POLLIN, 0}, {sinks[0].pipe_fd, POLLIN, 0}, {sinks[1].pipe_fd, POLLIN, 0}};
    uint64_t wait_ms = (deadline - now + 999) / 1000;
    int n = poll(pfd, 3, wait_ms > 60000 ? 60000 : (int)wait_ms);
    if (n < 0 && errno != EINTR) die("poll");
    if (n <= 0) continue;
    for (int i = 0; i < 2; i++)
      if (pfd[i + 1].revents) drain_once(&sinks[i], job->max_total, buf);
    if (pfd[0].revents && waitpid(pid, &status, WNOHANG) == pid) exited = 1;
  }
  out.duration_us = now_us() - start;
  close(pidfd);
  if (exited) {
    if (WIFEXITED(status)) out.kind = EXIT_KIND_EXITED, out.code = WEXITSTATUS(status);
    else out.kind = EXIT_KIND_SIGNALED, out.code = WTERMSIG(status);
    kill_everything(); /* leftovers must not keep running (or writing) during collection */
  }

  /* Everything is dead, so the pipes reach EOF promptly; the deadline is only a safety net. */
  uint64_t drain_deadline = now_us() + 5000000u;
  while ((sinks[0].pipe_fd >= 0 || sinks[1].pipe_fd >= 0) && now_us() < drain_deadline) {
    struct pollfd pfd[2] = {{sinks[0].pipe_fd, POLLIN, 0}, {sinks[1].pipe_fd, POLLIN, 0}};
    if (poll(pfd, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; i++)
      if (pfd[i].revents) drain_once(&sinks[i], job->max_total, buf);
  }
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  free(buf);
  return out;
}

/* ------------------------------------------------------------------ results */

static void send_file_data(char type, int fd) {
  char *buf = malloc(CHUNK);
  if (!buf) die("malloc");
  for (;;) {
    ssize_t r = read(fd, buf, CHUNK);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    send_frame(type, buf, (uint32_t)r);
  }
  free(buf);
}

static void send_stream(const struct sink *s, char type, uint64_t cap) {
  if (s->total > cap) report("%s was %llu bytes, over the %llu-byte cap; only the first %llu bytes were kept", s->name,
                              (unsigned long long)s->total, (unsigned long long)cap, (unsigned long long)cap);
  lseek(s->file_fd, 0, SEEK_SET);
  send_file_data(type, s->file_fd);
}

static char *resolve(const struct job *job, const char *path) {
  char *full;
  if (path[0] == '/') full = strdup(path);
  else if (asprintf(&full, "%s/%s", job->cwd, path) < 0) full = NULL;
  if (!full) die("alloc");
  return full;
}

/* All or nothing: over either cap no file is sent, so the host never sees a partial set. */
static void send_files(const struct job *job) {
  if (job->nfiles > job->max_files) {
    report("%zu output files requested, over the cap of %llu files", job->nfiles, (unsigned long long)job->max_files);
    return;
  }
  int *fds = calloc(job->nfiles + 1, sizeof *fds);
  if (!fds) die("calloc");
  uint64_t total = 0;
  for (size_t i = 0; i < job->nfiles; i++) {
    char *full = resolve(job, job->files[i]);
    struct stat st;
    fds[i] = open(full, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) {
      report("output file %s: %s", job->files[i], errno == ENOENT ? "not found" : strerror(errno));
    } else if (fstat(fds[i], &st) != 0 || !S_ISREG(st.st_mode)) {
      report("output file %s is not a regular file", job->files[i]);
      close(fds[i]);
      fds[i] = -1;
    } else {
      total += (uint64_t)st.st_size;
    }
    free(full);
  }
  if (total > job->max_total) {
    report("output files total %llu bytes, over the cap of %llu bytes", (unsigned long long)total,
           (unsigned long long)job->max_total);
  }
  for (size_t i = 0; i < job->nfiles; i++) {
    if (fds[i] < 0) continue;
    if (total <= job->max_total) {
      send_frame('F', job->files[i], (uint32_t)strlen(job->files[i]));
      send_file_data('D', fds[i]);
    }
    close(fds[i]);
  }
  free(fds);
}

static void send_outcome(struct outcome o) {
  uint8_t p[16] = {0};
  p[0] = (uint8_t)o.kind;
  put_be32(p + 4, (uint32_t)o.code);
  put_be32(p + 8, (uint32_t)(o.duration_us >> 32));
  put_be32(p + 12, (uint32_t)o.duration_us);
  send_frame('X', p, sizeof p);
}

static int open_capture(const char *name) {
  char path[64];
  snprintf(path, sizeof path, OUT_DIR "/%s", name);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) die("open capture file");
  return fd;
}

int main(void) {
  struct job job;
  crc_init();
  /* The kernel opens /dev/console (packed into the job archive) as fds 0-2 before running init. */
  console_fd = fcntl(1, F_GETFD) >= 0 ? 1 : -1;
  read_job(&job);
  setup_machine(job.epoch_ms);
  load_modules(job.modules);
  open_channel(job.channel);

  struct utsname uts;
  if (uname(&uts) == 0) send_frame('H', uts.release, (uint32_t)strlen(uts.release));
  else send_frame('H', NULL, 0);

  if (strcmp(job.mode, "run") == 0) {
    if (!job.argv[0]) {
      report("no command to run: entrypoint and cmd are both empty");
      send_outcome((struct outcome){EXIT_KIND_NOT_STARTED, 0, 0});
    } else {
      mkdir(OUT_DIR, 0700);
      struct sink sinks[2] = {{"stdout", -1, open_capture("stdout"), 0, 0}, {"stderr", -1, open_capture("stderr"), 0, 0}};
      struct outcome o = run_command(&job, sinks);
      send_outcome(o);
      send_stream(&sinks[0], 'O', job.max_total);
      send_stream(&sinks[1], 'E', job.max_total);
      if (o.kind != EXIT_KIND_NOT_STARTED) send_files(&job);
    }
    for (size_t off = 0; off < errors_len; off += strlen(errors + off) + 1)
      send_frame('R', errors + off, (uint32_t)strlen(errors + off));
  }
  send_frame('Z', NULL, 0);
  close_channel();
  power_off();
  return 0;
}
