/*
 * petrel proxy --listen HOST:PORT --forward HOST:PORT [impairments] [--seed N]
 *              [--duration S] [--port-file FILE] [--dump DIR] [-v]
 *
 * A UDP proxy that impairs the traffic it relays, with the engine of
 * tests/lossy/impair.c on the wall clock. Each client address gets its own
 * upstream socket, so the server sees one peer per client. Impairment
 * options (netem's names) apply to both directions; prefix one with c2s-
 * (client to server) or s2c- to set one direction only:
 *
 *   --loss 30%   --loss "gemodel 1% 10%"   --delay 25ms   --jitter 5ms
 *   --reorder 20%   --duplicate 10%   --corrupt 1%   --rate 1mbit
 *   --mtu 576   --blackout 1000-3000
 *
 * Counters for each direction are printed when it stops (SIGINT, SIGTERM,
 * or after --duration seconds).
 *
 * --dump DIR writes every datagram the proxy receives, before impairment,
 * to DIR (created if missing) as NNNNNN-c2s.bin or NNNNNN-s2c.bin, where
 * NNNNNN counts the datagrams of both directions from 000000, so that the
 * file names sort in arrival order.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/lossy/impair.h"
#include "tools/tool.h"

#define PROXY_MAX_FLOWS    256
#define PROXY_MAX_PENDING  8192
#define PROXY_MAX_DATAGRAM 65536
#define PROXY_FLOW_IDLE_MS 120000

enum { C2S = 0, S2C = 1 };

typedef struct flow {
    bool used;
    struct sockaddr_storage client;
    socklen_t client_len;
    int upstream; /* connected to the forward address */
    uint64_t last_active;
} flow;

typedef struct pending {
    uint64_t at;
    int flow;
    int direction;
    size_t len;
    uint8_t *data;
} pending;

typedef struct proxy {
    int listen_fd;
    struct addrinfo *forward;
    impair_link links[2];
    flow flows[PROXY_MAX_FLOWS];
    pending queue[PROXY_MAX_PENDING];
    size_t queued;
    uint64_t queue_full_drops;
    const char *dump_dir; /* --dump, or NULL */
    unsigned long dumped;
    int verbose;
} proxy;

static volatile sig_atomic_t proxy_stop;

static void proxy_on_signal(int sig)
{
    (void)sig;
    proxy_stop = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int flow_for(proxy *px, const struct sockaddr_storage *from, socklen_t len, uint64_t now)
{
    int free_slot = -1;
    for (int i = 0; i < PROXY_MAX_FLOWS; i++) {
        flow *f = &px->flows[i];
        if (f->used && f->client_len == len && memcmp(&f->client, from, len) == 0)
            return i;
        if (!f->used && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        return -1;
    int fd = socket(px->forward->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, px->forward->ai_addr, px->forward->ai_addrlen) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    flow *f = &px->flows[free_slot];
    f->used = true;
    memcpy(&f->client, from, len);
    f->client_len = len;
    f->upstream = fd;
    f->last_active = now;
    return free_slot;
}

/* --dump: one file per datagram received, named in arrival order. */
static void dump_datagram(proxy *px, int direction, const uint8_t *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%06lu-%s.bin", px->dump_dir, px->dumped++,
             direction == C2S ? "c2s" : "s2c");
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "petrel proxy: cannot write %s\n", path);
}

/* Runs one datagram through the direction's impairment and queues the
 * copies that survive. */
static void impair_and_queue(proxy *px, int fl, int direction, uint8_t *data, size_t len,
                             uint64_t now)
{
    impair_verdict v = impair_decide(&px->links[direction], now, data, len);
    for (int i = 0; i < v.copies; i++) {
        if (px->queued == PROXY_MAX_PENDING) {
            px->queue_full_drops++;
            continue;
        }
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy) {
            px->queue_full_drops++;
            continue;
        }
        memcpy(copy, data, len);
        px->queue[px->queued++] = (pending){v.deliver_at[i], fl, direction, len, copy};
    }
}

static void deliver_due(proxy *px, uint64_t now)
{
    /* Deliver in time order; equal times keep the order they were queued. */
    for (;;) {
        size_t best = px->queued;
        for (size_t i = 0; i < px->queued; i++)
            if (px->queue[i].at <= now &&
                (best == px->queued || px->queue[i].at < px->queue[best].at))
                best = i;
        if (best == px->queued)
            return;
        pending p = px->queue[best];
        memmove(&px->queue[best], &px->queue[best + 1], (px->queued - best - 1) * sizeof(p));
        px->queued--;
        flow *f = &px->flows[p.flow];
        if (f->used) {
            if (p.direction == C2S)
                (void)send(f->upstream, p.data, p.len, 0);
            else
                (void)sendto(px->listen_fd, p.data, p.len, 0, (struct sockaddr *)&f->client,
                             f->client_len);
        }
        free(p.data);
    }
}

static int next_wait(const proxy *px, uint64_t now, int cap)
{
    int wait = cap;
    for (size_t i = 0; i < px->queued; i++) {
        int64_t d = (int64_t)px->queue[i].at - (int64_t)now;
        if (d < 0)
            d = 0;
        if (d < wait)
            wait = (int)d;
    }
    return wait;
}

static void print_counters(const char *name, const impair_counters *c)
{
    printf("%s: offered %llu, delivered %llu, lost %llu, mtu-dropped %llu, blackout-dropped "
           "%llu, rate-dropped %llu, duplicated %llu, corrupted %llu, reordered %llu\n",
           name, (unsigned long long)c->offered, (unsigned long long)c->delivered,
           (unsigned long long)c->lost, (unsigned long long)c->mtu_dropped,
           (unsigned long long)c->blackout_dropped, (unsigned long long)c->rate_dropped,
           (unsigned long long)c->duplicated, (unsigned long long)c->corrupted,
           (unsigned long long)c->reordered);
}

static void proxy_usage(void)
{
    fprintf(stderr, "usage: petrel proxy --listen HOST:PORT --forward HOST:PORT [--seed N]\n"
                    "                    [--loss P%%] [--delay D] [--jitter J] [--reorder P%%]\n"
                    "                    [--duplicate P%%] [--corrupt P%%] [--rate R] [--mtu N]\n"
                    "                    [--blackout A-B] (each also as --c2s-NAME / --s2c-NAME)\n"
                    "                    [--duration S] [--port-file FILE] [--dump DIR] [-v]\n"
                    "  --dump DIR: write each datagram received, before impairment, to\n"
                    "              DIR/NNNNNN-c2s.bin or -s2c.bin (NNNNNN: arrival order)\n");
}

static bool is_impairment(const char *name)
{
    static const char *const names[] = {"loss",    "delay", "jitter", "reorder", "duplicate",
                                        "corrupt", "rate",  "mtu",    "blackout"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

int tool_proxy(int argc, char **argv)
{
    static proxy px;
    impair_params params[2];
    char *listen_spec = NULL, *forward_spec = NULL;
    const char *port_file = NULL;
    unsigned long long seed = 1;
    double duration_s = 0;
    char err[160];
    impair_params_init(&params[C2S]);
    impair_params_init(&params[S2C]);
    memset(&px, 0, sizeof(px));
    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "-v") == 0) {
            px.verbose++;
            continue;
        }
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            proxy_usage();
            return 0;
        }
        if (strncmp(opt, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "petrel proxy: unknown or incomplete option '%s'\n", opt);
            proxy_usage();
            return 2;
        }
        const char *name = opt + 2, *value = argv[++i];
        if (strcmp(name, "listen") == 0) {
            listen_spec = argv[i];
        } else if (strcmp(name, "forward") == 0) {
            forward_spec = argv[i];
        } else if (strcmp(name, "seed") == 0) {
            seed = strtoull(value, NULL, 10);
        } else if (strcmp(name, "duration") == 0) {
            duration_s = strtod(value, NULL);
        } else if (strcmp(name, "port-file") == 0) {
            port_file = value;
        } else if (strcmp(name, "dump") == 0) {
            px.dump_dir = value;
        } else {
            int first = C2S, last = S2C;
            if (strncmp(name, "c2s-", 4) == 0) {
                name += 4;
                last = C2S;
            } else if (strncmp(name, "s2c-", 4) == 0) {
                name += 4;
                first = S2C;
            }
            if (!is_impairment(name)) {
                fprintf(stderr, "petrel proxy: unknown option '%s'\n", opt);
                proxy_usage();
                return 2;
            }
            for (int d = first; d <= last; d++) {
                if (impair_params_set(&params[d], name, value, err, sizeof(err)) < 0) {
                    fprintf(stderr, "petrel proxy: %s %s: %s\n", opt, value, err);
                    return 2;
                }
            }
        }
    }
    char *lhost, *lport, *fhost, *fport;
    if (!listen_spec || !forward_spec || tool_split_hostport(listen_spec, &lhost, &lport) < 0 ||
        tool_split_hostport(forward_spec, &fhost, &fport) < 0) {
        fprintf(stderr, "petrel proxy: --listen HOST:PORT and --forward HOST:PORT are required\n");
        proxy_usage();
        return 2;
    }

    struct addrinfo hints, *lres = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(fhost, fport, &hints, &px.forward) != 0 ||
        getaddrinfo(lhost, lport, &hints, &lres) != 0)
        return tool_fail("proxy", "cannot resolve an address", PETREL_ERR_RESOLVE);
    px.listen_fd = socket(lres->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (px.listen_fd < 0 || bind(px.listen_fd, lres->ai_addr, lres->ai_addrlen) != 0) {
        freeaddrinfo(lres);
        freeaddrinfo(px.forward);
        return tool_fail("proxy", "cannot bind --listen", PETREL_ERR_IO);
    }
    freeaddrinfo(lres);
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    getsockname(px.listen_fd, (struct sockaddr *)&bound, &bound_len);
    char bound_port[16] = "?";
    getnameinfo((struct sockaddr *)&bound, bound_len, NULL, 0, bound_port, sizeof(bound_port),
                NI_NUMERICSERV);

    uint64_t start = now_ms();
    impair_link_init(&px.links[C2S], &params[C2S], seed * 2 + 1, start);
    impair_link_init(&px.links[S2C], &params[S2C], seed * 2 + 2, start);
    char desc[2][256];
    impair_params_describe(&params[C2S], desc[C2S], sizeof(desc[C2S]));
    impair_params_describe(&params[S2C], desc[S2C], sizeof(desc[S2C]));
    printf("proxy %s:%s -> %s:%s, seed %llu\n  c2s: %s\n  s2c: %s\n", lhost, bound_port, fhost,
           fport, seed, desc[C2S], desc[S2C]);
    fflush(stdout);
    if (px.dump_dir && mkdir(px.dump_dir, 0777) != 0 && errno != EEXIST)
        return tool_fail("proxy", "cannot create --dump directory", 0);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (!f || fprintf(f, "%s\n", bound_port) < 0 || fclose(f) != 0)
            return tool_fail("proxy", "cannot write --port-file", 0);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = proxy_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    static uint8_t buf[PROXY_MAX_DATAGRAM];
    while (!proxy_stop) {
        uint64_t now = now_ms();
        if (duration_s > 0 && now - start >= (uint64_t)(duration_s * 1000))
            break;
        struct pollfd fds[1 + PROXY_MAX_FLOWS];
        int map[1 + PROXY_MAX_FLOWS];
        nfds_t n = 0;
        fds[n] = (struct pollfd){px.listen_fd, POLLIN, 0};
        map[n++] = -1;
        for (int i = 0; i < PROXY_MAX_FLOWS; i++) {
            if (!px.flows[i].used)
                continue;
            if (now - px.flows[i].last_active > PROXY_FLOW_IDLE_MS) {
                close(px.flows[i].upstream);
                px.flows[i].used = false;
                continue;
            }
            fds[n] = (struct pollfd){px.flows[i].upstream, POLLIN, 0};
            map[n++] = i;
        }
        if (poll(fds, n, next_wait(&px, now, 100)) < 0 && errno != EINTR)
            break;
        now = now_ms();
        for (nfds_t k = 0; k < n; k++) {
            if (!(fds[k].revents & POLLIN))
                continue;
            for (int burst = 0; burst < 64; burst++) {
                struct sockaddr_storage from;
                socklen_t from_len = sizeof(from);
                ssize_t got;
                int fl = map[k];
                if (fl < 0)
                    got = recvfrom(px.listen_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
                                   &from_len);
                else
                    got = recv(px.flows[fl].upstream, buf, sizeof(buf), 0);
                if (got < 0)
                    break;
                if (px.dump_dir)
                    dump_datagram(&px, map[k] < 0 ? C2S : S2C, buf, (size_t)got);
                if (fl < 0 && (fl = flow_for(&px, &from, from_len, now)) < 0)
                    continue;
                px.flows[fl].last_active = now;
                impair_and_queue(&px, fl, map[k] < 0 ? C2S : S2C, buf, (size_t)got, now);
            }
        }
        deliver_due(&px, now_ms());
    }
    printf("proxy stopped after %.1f s\n", (double)(now_ms() - start) / 1000.0);
    print_counters("c2s", &px.links[C2S].counters);
    print_counters("s2c", &px.links[S2C].counters);
    if (px.queue_full_drops)
        printf("dropped for a full queue: %llu\n", (unsigned long long)px.queue_full_drops);
    for (size_t i = 0; i < px.queued; i++)
        free(px.queue[i].data);
    for (int i = 0; i < PROXY_MAX_FLOWS; i++)
        if (px.flows[i].used)
            close(px.flows[i].upstream);
    close(px.listen_fd);
    freeaddrinfo(px.forward);
    return 0;
}
