#ifndef HANDSON_CSPAWNSUPPORT_H
#define HANDSON_CSPAWNSUPPORT_H
#include <spawn.h>
#include <sys/types.h>

/// pipe2(fds, O_CLOEXEC): both ends close on exec, atomically (GNU extension Swift's Glibc module hides).
int handson_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np: the child starts in `path` (glibc 2.29+).
int handson_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np(actions, from): the child closes every descriptor from `from` up before
/// it runs (glibc 2.34+), whatever the parent's threads opened without close-on-exec; ENOSYS where it is missing.
int handson_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from);

/// pidfd_open(pid, 0), close-on-exec: a descriptor that polls readable once the child has exited (Linux 5.3+);
/// -1 with errno set where the kernel lacks it.
int handson_pidfd_open(pid_t pid);

/// fgetxattr(descriptor, name, value, size): an extended attribute of an open file; how overlayfs marks an opaque
/// directory in a layer folder (the walk has each folder open already).
long handson_fgetxattr(int descriptor, const char *name, void *value, unsigned long size);

#endif

/// memmem (a GNU extension Swift's Glibc module does not expose): the first place of `needle` in `haystack`, or NULL.
const void *handson_memmem(const void *haystack, unsigned long haystack_length, const void *needle,
                           unsigned long needle_length);
