#ifndef AIRLOCK_SPAWN_H
#define AIRLOCK_SPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` (NULL: this process's environment) through posix_spawn,
/// the one way Airlock starts a child. The child gets:
/// - an empty signal mask and every signal at its default disposition (threads of Swift's
///   concurrency pool block almost every signal and a process may ignore SIGPIPE; both are
///   inherited across exec, so without this a libuv child never sees SIGCHLD and a pipeline
///   whose reader leaves gets write errors instead of ending);
/// - `stdin_fd`, `stdout_fd`, `stderr_fd` as its standard streams;
/// - no other descriptor of this process;
/// - `directory` (NULL: this process's) as its working directory;
/// - with `new_process_group`, a process group of its own, so that it can be stopped with all
///   it started (an install step's compilers).
/// Returns 0 and the child's id in `pid`, or an errno value.
int airlock_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                  const char *directory, int stdin_fd, int stdout_fd, int stderr_fd, int new_process_group);

/// A pipe whose two ends close on exec (pipe2 with O_CLOEXEC, which Swift's Glibc module does
/// not show): a child gets an end only through `airlock_spawn`'s streams. Returns 0 or -1 (errno).
int airlock_pipe(int ends[2]);

#endif
