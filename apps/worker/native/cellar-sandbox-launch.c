// cellar-sandbox-launch: runs `runsc run|restore` as the child of a process that has joined the
// sandbox's memory cgroup and is a child subreaper.
//
// Why a subreaper: `runsc run`/`restore` starts the gofer and sandbox processes as its children and
// may exit before them; orphans then belong to the host's init. On the development VMs that init
// reaps slowly, and `runsc delete` waits for the gofer to be gone, so every stop of a kernel cost
// about 1.4 s (measured). Here the orphans are reaped at once. Node cannot set
// PR_SET_CHILD_SUBREAPER itself, and a shell wrapper does not reap grandchildren.
//
// Usage: cellar-sandbox-launch CGROUP_DIR|- COMMAND [ARG...]
// Exits as COMMAND did (same code, or the same signal). Forwards SIGTERM, SIGINT, SIGHUP,
// SIGQUIT, SIGUSR1 and SIGUSR2 to it; if this process is SIGKILLed, COMMAND is too.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child = -1;

static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

static int join_cgroup(const char *dir) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path) return -1;
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int ok = dprintf(fd, "%d\n", (int)getpid()) > 0;
  close(fd);
  return ok ? 0 : -1;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s CGROUP_DIR|- COMMAND [ARG...]\n", argv[0]);
    return 125;
  }
  if (strcmp(argv[1], "-") != 0 && join_cgroup(argv[1]) != 0) {
    fprintf(stderr, "cellar-sandbox-launch: joining cgroup %s: %s\n", argv[1], strerror(errno));
    return 125;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    // Only stops get slower without it.
    fprintf(stderr, "cellar-sandbox-launch: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
  }
  const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaction(forwarded[i], &sa, NULL);

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "cellar-sandbox-launch: fork: %s\n", strerror(errno));
    return 125;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(125);  // the launcher died before the line above
    execvp(argv[2], argv + 2);
    fprintf(stderr, "cellar-sandbox-launch: exec %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  child = pid;

  int status = 0;
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p == pid) {
      status = st;
      break;
    }
  }
  child = -1;
  // What COMMAND left behind (the gofer, the sandbox) exits within moments of it; reap it for up
  // to 2 s, then leave the rest to init rather than delay the exit the worker waits for.
  for (double until = now() + 2.0; now() < until;) {
    pid_t p = waitpid(-1, NULL, WNOHANG);
    if (p < 0 && errno == ECHILD) break;
    if (p <= 0) usleep(5000);
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    kill(getpid(), sig);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
