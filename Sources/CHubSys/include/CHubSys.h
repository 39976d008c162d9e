#ifndef CHUBSYS_H
#define CHUBSYS_H
/*
 * Linux interfaces Swift's Glibc module does not export (epoll, eventfd, signalfd), re-exported
 * as plain functions so Swift never touches the packed `struct epoll_event`.
 */
#include <stdint.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

static const uint32_t CHUB_EPOLLIN = EPOLLIN;
static const uint32_t CHUB_EPOLLOUT = EPOLLOUT;
static const uint32_t CHUB_EPOLLERR = EPOLLERR;
static const uint32_t CHUB_EPOLLHUP = EPOLLHUP;
static const uint32_t CHUB_EPOLLRDHUP = EPOLLRDHUP;

/* accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC). */
int chub_accept_nonblocking(int fd);

/* epoll_create1(EPOLL_CLOEXEC). */
int chub_epoll_create(void);

/* epoll_ctl with `events` and the 64-bit user token `token`; op is 1 add, 2 delete, 3 modify. */
int chub_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);

/* epoll_wait into parallel arrays; returns the count, or -1 with errno. */
int chub_epoll_wait(int epfd, uint32_t *events, uint64_t *tokens, int max, int timeout_ms);

/* eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC). */
int chub_eventfd(void);

/* A non-blocking, close-on-exec signalfd for `signals` (count entries), which it also blocks
   in the calling thread's mask (call before starting other threads so they inherit it). */
int chub_signalfd(const int *signals, int count);

/* Reads one signalfd record; returns the signal number, 0 when none is pending, -1 on error. */
int chub_signalfd_read(int fd);
#endif
