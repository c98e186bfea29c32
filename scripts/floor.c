/*
 * floor.c - the hardware floor for reading a queue: walk QUEUE_DIR and its
 * one-character subdirectories, and for every file open it, read 8 KiB once,
 * close it. No parsing, no output but the count and the time. scripts/bench
 * times qpurge against this.
 *
 * Usage: floor QUEUE_DIR      (e.g. /var/spool/postfix/deferred)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long walk(int dirfd, int depth) {
  char buf[8192];
  long n = 0;
  DIR* d = fdopendir(dirfd);
  if (!d) return 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (e->d_type == DT_DIR && strlen(e->d_name) == 1 && depth < 4) {
      int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY);
      if (sub >= 0) n += walk(sub, depth + 1);
      continue;
    }
    int fd = openat(dirfd, e->d_name, O_RDONLY);
    if (fd < 0) continue;
    if (read(fd, buf, sizeof buf) >= 0) n++;
    close(fd);
  }
  closedir(d);
  return n;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s QUEUE_DIR\n", argv[0]);
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
