// SPDX-License-Identifier: MIT
/*
 * floor.c - the hardware floor for reading a queue, the figure scripts/bench
 * measures qpurge against (issue 6): walk QUEUE_DIR and its one-character
 * subdirectories (Postfix's hash levels; any depth), and for every other
 * entry open it, read 8 KiB once, close it. One thread, no parsing, no
 * stat, no output but one line: "N files S.SSSSSS s" (N = files of which
 * the read succeeded; S = seconds of wall time, from before the first
 * open to after the last close).
 *
 * With --whole, every file is read to its end (8 KiB reads) instead: the
 * floor for a search of whole messages (qpurge --body).
 *
 * Usage: floor [--whole] QUEUE_DIR      (e.g. /var/spool/postfix/deferred)
 * Build: cc -O2 -o floor scripts/floor.c    (scripts/bench does this)
 * Exit: 0; 1 if QUEUE_DIR cannot be opened; 2 on a usage error. Entries
 * that cannot be opened or read are not counted, and not reported.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int whole = 0;

static long walk(int dirfd, int depth) {
  char buf[8192];
  long n = 0;
  DIR* d = fdopendir(dirfd);
  if (!d) {
    close(dirfd);
    return 0;
  }
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (e->d_name[1] == '\0' && depth < 8) {
      /* A hash level, as Postfix's scanners treat every one-character name. */
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st;
        type = fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
      }
      if (type == DT_DIR) {
        int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY);
        if (sub >= 0) n += walk(sub, depth + 1);
        continue;
      }
    }
    int fd = openat(dirfd, e->d_name, O_RDONLY);
    if (fd < 0) continue;
    ssize_t r = read(fd, buf, sizeof buf);
    while (whole && r > 0) r = read(fd, buf, sizeof buf);
    if (r >= 0) n++;
    close(fd);
  }
  closedir(d);
  return n;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--whole") == 0) {
    whole = 1;
    argv++;
    argc--;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: %s [--whole] QUEUE_DIR\n", argv[0]);
    return 2;
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  int fd = open(argv[1], O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  long n = walk(fd, 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%ld files %.6f s\n", n, (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
  return 0;
}
