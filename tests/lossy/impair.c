/*
 * The impairment engine (tests/lossy/impair.h).
 *
 * Every random choice comes from one splitmix64 stream held in the link, and
 * a draw is taken only when the setting it serves is on, so a link's verdicts
 * depend on nothing but its seed, its parameters and the calls made on it.
 * No allocation, no global state, no clock: time arrives as now_ms.
 */
#include "impair.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

/* ---- randomness ---- */

#define IMPAIR_GOLDEN_GAMMA UINT64_C(0x9E3779B97F4A7C15)

static uint64_t impair_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t impair_next(impair_link *link)
{
    link->rng += IMPAIR_GOLDEN_GAMMA;
    return impair_mix64(link->rng);
}

/* Uniform in [0, 1): the top 53 bits, so every value is exact. */
static double impair_uniform(impair_link *link)
{
    return (double)(impair_next(link) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0, without modulo bias: reject the few draws
 * below 2^64 mod n. */
static uint64_t impair_below(impair_link *link, uint64_t n)
{
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = impair_next(link);
        if (r >= threshold) {
            return r % n;
        }
    }
}

/* True with probability p. Certain outcomes take no draw, so a setting
 * that is off leaves the stream alone. */
static bool impair_chance(impair_link *link, double p)
{
    if (!(p > 0.0)) {
        return false;
    }
    if (p >= 1.0) {
        return true;
    }
    return impair_uniform(link) < p;
}

/* ---- the link ---- */

void impair_params_init(impair_params *p)
{
    memset(p, 0, sizeof *p);
}

void impair_link_init(impair_link *link, const impair_params *p, uint64_t seed, uint64_t now_ms)
{
    memset(link, 0, sizeof *link);
    link->params = *p;
    /* Scrambled once so that seeds 1, 2, 3... start far apart in the
     * splitmix sequence rather than one golden step from each other. */
    link->rng = impair_mix64(seed ^ UINT64_C(0x6A09E667F3BCC909));
    link->start_ms = now_ms;
}

static bool impair_in_blackout(const impair_link *link, uint64_t now_ms)
{
    if (now_ms < link->start_ms) {
        return false;
    }
    uint64_t since_start = now_ms - link->start_ms;
    size_t count = link->params.blackout_count;
    if (count > IMPAIR_MAX_BLACKOUTS) {
        count = IMPAIR_MAX_BLACKOUTS;
    }
    for (size_t i = 0; i < count; i++) {
        if (since_start >= link->params.blackouts[i].start_ms &&
            since_start < link->params.blackouts[i].end_ms) {
            return true;
        }
    }
    return false;
}

static bool impair_lose(impair_link *link)
{
    const impair_params *p = &link->params;
    if (!p->gemodel) {
        return impair_chance(link, p->loss);
    }
    /* The state moves first, then the datagram meets the new state's loss
     * rate: a burst begins with the datagram that turned the link bad. */
    if (link->ge_bad) {
        if (impair_chance(link, p->ge_r)) {
            link->ge_bad = false;
        }
    } else if (impair_chance(link, p->ge_p)) {
        link->ge_bad = true;
    }
    return impair_chance(link, link->ge_bad ? p->ge_loss_bad : p->ge_loss_good);
}

/* The longest a datagram may wait for the serialiser before it is dropped. */
#define IMPAIR_RATE_QUEUE_MS 1000

impair_verdict impair_decide(impair_link *link, uint64_t now_ms, uint8_t *dgram, size_t len)
{
    const impair_params *p = &link->params;
    impair_counters *c = &link->counters;
    impair_verdict v = {0, {0, 0}};

    c->offered++;
    if (impair_in_blackout(link, now_ms)) {
        c->blackout_dropped++;
        return v;
    }
    if (p->mtu != 0 && len > p->mtu) {
        c->mtu_dropped++;
        return v;
    }
    if (impair_lose(link)) {
        c->lost++;
        return v;
    }

    uint64_t departure = now_ms;
    if (p->rate_bps != 0) {
        uint64_t serialisation_ms = (uint64_t)len * 8 * 1000 / p->rate_bps;
        uint64_t start = link->rate_free_at > now_ms ? link->rate_free_at : now_ms;
        if (start - now_ms > IMPAIR_RATE_QUEUE_MS) {
            c->rate_dropped++;
            return v;
        }
        link->rate_free_at = start + serialisation_ms;
        departure = link->rate_free_at;
    }

    if (len > 0 && impair_chance(link, p->corrupt)) {
        uint64_t bit = impair_below(link, (uint64_t)len * 8);
        dgram[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        c->corrupted++;
    }

    int64_t delay = p->delay_ms;
    if (p->jitter_ms > 0) {
        uint64_t span = 2 * (uint64_t)p->jitter_ms + 1;
        delay += (int64_t)impair_below(link, span) - (int64_t)p->jitter_ms;
    }
    uint64_t deliver = departure + (delay > 0 ? (uint64_t)delay : 0);

    if (impair_chance(link, p->reorder)) {
        deliver = departure;
        c->reordered++;
    }

    if (!(p->reorder > 0.0 || p->jitter_reorders)) {
        if (deliver < link->last_delivery) {
            deliver = link->last_delivery;
        }
        link->last_delivery = deliver;
    }

    v.copies = 1;
    v.deliver_at[0] = deliver;
    if (impair_chance(link, p->duplicate)) {
        v.copies = 2;
        v.deliver_at[1] = deliver;
        c->duplicated++;
    }
    c->delivered += (uint64_t)v.copies;
    return v;
}

/* ---- parsing ---- */

static int impair_fail(char *err, size_t err_cap, const char *fmt, ...) PETREL_PRINTF(3, 4);

static int impair_fail(char *err, size_t err_cap, const char *fmt, ...)
{
    if (err != NULL && err_cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool impair_is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

static bool impair_is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* A value split into blank-separated words, copied. */
#define IMPAIR_MAX_WORDS 8
#define IMPAIR_WORD_CAP  40

typedef struct impair_words {
    char text[IMPAIR_MAX_WORDS][IMPAIR_WORD_CAP];
    size_t count;
} impair_words;

/* False if there are too many words or one is too long. */
static bool impair_split(const char *value, impair_words *w)
{
    w->count = 0;
    const char *s = value;
    for (;;) {
        while (impair_is_space(*s)) {
            s++;
        }
        if (*s == '\0') {
            return true;
        }
        if (w->count == IMPAIR_MAX_WORDS) {
            return false;
        }
        size_t n = 0;
        while (*s != '\0' && !impair_is_space(*s)) {
            if (n + 1 == IMPAIR_WORD_CAP) {
                return false;
            }
            w->text[w->count][n++] = *s++;
        }
        w->text[w->count][n] = '\0';
        w->count++;
    }
}

/*
 * A non-negative decimal, "123" or "12.5", as mantissa / 10^scale. At most
 * 15 digits in all, so the mantissa and every power of ten we divide it by
 * (up to 10^17) are exact doubles and exact uint64s. *end is left on the
 * first character after the number.
 */
#define IMPAIR_MAX_DIGITS 15

static bool impair_decimal(const char *s, uint64_t *mantissa, unsigned *scale, const char **end)
{
    uint64_t m = 0;
    unsigned digits = 0, decimals = 0;
    bool point = false;
    for (;; s++) {
        if (impair_is_digit(*s)) {
            if (++digits > IMPAIR_MAX_DIGITS) {
                return false;
            }
            m = m * 10 + (uint64_t)(*s - '0');
            decimals += point;
        } else if (*s == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    if (digits == 0 || s[-1] == '.') {
        return false;
    }
    *mantissa = m;
    *scale = decimals;
    *end = s;
    return true;
}

static uint64_t impair_pow10(unsigned n)
{
    uint64_t r = 1;
    while (n-- > 0) {
        r *= 10;
    }
    return r;
}

/* mantissa / 10^scale * factor, if that is a whole number no larger than
 * max. */
static bool impair_scaled(uint64_t mantissa, unsigned scale, uint64_t factor, uint64_t max,
                          uint64_t *out)
{
    if (mantissa > UINT64_MAX / factor) {
        return false;
    }
    uint64_t product = mantissa * factor;
    uint64_t divisor = impair_pow10(scale);
    if (product % divisor != 0 || product / divisor > max) {
        return false;
    }
    *out = product / divisor;
    return true;
}

/* "30%" or "30": a percentage from 0 to 100, as a fraction. */
static int impair_percent(const char *what, const char *s, double *out, char *err, size_t cap)
{
    uint64_t m;
    unsigned scale;
    const char *end;
    if (s[0] == '-') {
        return impair_fail(err, cap, "%s: '%s' is negative (percentages run from 0 to 100)", what,
                           s);
    }
    if (!impair_decimal(s, &m, &scale, &end) || (end[0] == '%' ? end[1] : end[0]) != '\0') {
        return impair_fail(err, cap, "%s: '%s' is not a percentage (like 30%% or 0.5%%)", what, s);
    }
    if (m > 100 * impair_pow10(scale)) {
        return impair_fail(err, cap, "%s: '%s' is above 100%%", what, s);
    }
    /* One division of two exact values: correctly rounded, so a given text
     * always gives the same double, whatever the platform. */
    *out = (double)m / (double)impair_pow10(scale + 2);
    return 0;
}

/*
 * "25ms", "2s", "1.5s" or "25" (ms): a whole number of milliseconds no
 * larger than max. A number without a unit takes bare_unit ("" for ms).
 */
static int impair_time(const char *what, const char *s, const char *bare_unit, uint64_t max,
                       uint64_t *out, char *err, size_t cap)
{
    uint64_t m, factor;
    unsigned scale;
    const char *end;
    if (s[0] == '-') {
        return impair_fail(err, cap, "%s: '%s' is negative", what, s);
    }
    if (!impair_decimal(s, &m, &scale, &end)) {
        return impair_fail(err, cap, "%s: '%s' is not a time (like 25ms or 2s)", what, s);
    }
    const char *unit = end[0] != '\0' ? end : bare_unit;
    if (unit[0] == '\0' || strcmp(unit, "ms") == 0) {
        factor = 1;
    } else if (strcmp(unit, "s") == 0) {
        factor = 1000;
    } else {
        return impair_fail(err, cap, "%s: unknown time unit '%s' in '%s' (use ms or s)", what, unit,
                           s);
    }
    if (!impair_scaled(m, scale, factor, max, out)) {
        return impair_fail(err, cap, "%s: '%s' is not a whole number of ms up to %llu", what, s,
                           (unsigned long long)max);
    }
    return 0;
}

static int impair_set_loss(impair_params *p, const impair_words *w, const char *value, char *err,
                           size_t cap)
{
    if (w->count == 0) {
        return impair_fail(err, cap, "loss: missing value (like 30%% or gemodel 1%% 10%%)");
    }
    if (strcmp(w->text[0], "gemodel") == 0) {
        if (w->count < 3 || w->count > 5) {
            return impair_fail(err, cap, "loss: '%s' should be gemodel P R [1-H [1-K]]", value);
        }
        static const char *const what[4] = {"loss gemodel P", "loss gemodel R", "loss gemodel 1-H",
                                            "loss gemodel 1-K"};
        double ge[4] = {0.0, 0.0, 1.0, 0.0}; /* 1-H defaults to 100%, 1-K to 0% */
        for (size_t i = 1; i < w->count; i++) {
            if (impair_percent(what[i - 1], w->text[i], &ge[i - 1], err, cap) != 0) {
                return -1;
            }
        }
        p->loss = 0.0;
        p->gemodel = true;
        p->ge_p = ge[0];
        p->ge_r = ge[1];
        p->ge_loss_bad = ge[2];
        p->ge_loss_good = ge[3];
        return 0;
    }
    if (strcmp(w->text[0], "state") == 0) {
        return impair_fail(err, cap, "loss: netem's 4-state model is not supported; use gemodel");
    }
    /* "random P" is netem's long spelling of "P". */
    size_t at = strcmp(w->text[0], "random") == 0 ? 1 : 0;
    if (w->count != at + 1) {
        return impair_fail(err, cap, "loss: '%s' should be one percentage (like 30%%)", value);
    }
    double loss;
    if (impair_percent("loss", w->text[at], &loss, err, cap) != 0) {
        return -1;
    }
    p->loss = loss;
    p->gemodel = false;
    p->ge_p = p->ge_r = p->ge_loss_bad = p->ge_loss_good = 0.0;
    return 0;
}

/* "D" sets the delay and leaves the jitter as it was; "D J" sets both. */
static int impair_set_delay(impair_params *p, const impair_words *w, const char *value, char *err,
                            size_t cap)
{
    if (w->count < 1 || w->count > 2) {
        return impair_fail(err, cap, "delay: '%s' should be DELAY [JITTER] (like 25ms 5ms)", value);
    }
    uint64_t delay, jitter = p->jitter_ms;
    if (impair_time("delay", w->text[0], "", UINT32_MAX, &delay, err, cap) != 0) {
        return -1;
    }
    if (w->count == 2 &&
        impair_time("delay jitter", w->text[1], "", UINT32_MAX, &jitter, err, cap) != 0) {
        return -1;
    }
    p->delay_ms = (uint32_t)delay;
    p->jitter_ms = (uint32_t)jitter;
    return 0;
}

static int impair_set_jitter(impair_params *p, const char *s, char *err, size_t cap)
{
    uint64_t jitter;
    if (impair_time("jitter", s, "", UINT32_MAX, &jitter, err, cap) != 0) {
        return -1;
    }
    p->jitter_ms = (uint32_t)jitter;
    return 0;
}

/* Units as tc writes them: decimal multiples of bits per second. (tc's
 * "bps" means bytes per second, so it is refused rather than guessed.) */
static int impair_set_rate(impair_params *p, const char *s, char *err, size_t cap)
{
    static const struct {
        const char *unit;
        uint64_t factor;
    } units[] = {{"", 1}, {"bit", 1}, {"kbit", 1000}, {"mbit", 1000000}, {"gbit", 1000000000}};
    uint64_t m;
    unsigned scale;
    const char *end;
    if (s[0] == '-') {
        return impair_fail(err, cap, "rate: '%s' is negative", s);
    }
    if (!impair_decimal(s, &m, &scale, &end)) {
        return impair_fail(err, cap, "rate: '%s' is not a rate (like 1mbit or 64000bit)", s);
    }
    for (size_t i = 0; i < PETREL_ARRAY_LEN(units); i++) {
        if (strcmp(end, units[i].unit) != 0) {
            continue;
        }
        uint64_t bps;
        if (!impair_scaled(m, scale, units[i].factor, UINT64_MAX, &bps) || bps == 0) {
            return impair_fail(err, cap, "rate: '%s' is not a whole number of bit/s above 0", s);
        }
        p->rate_bps = bps;
        return 0;
    }
    return impair_fail(err, cap, "rate: unknown unit '%s' in '%s' (use bit, kbit, mbit or gbit)",
                       end, s);
}

static int impair_set_mtu(impair_params *p, const char *s, char *err, size_t cap)
{
    uint64_t m, mtu;
    unsigned scale;
    const char *end;
    if (s[0] == '-' || !impair_decimal(s, &m, &scale, &end) || end[0] != '\0' ||
        !impair_scaled(m, scale, 1, SIZE_MAX, &mtu) || mtu == 0) {
        return impair_fail(err, cap, "mtu: '%s' is not a size in bytes above 0", s);
    }
    p->mtu = (size_t)mtu;
    return 0;
}

static const char *impair_skip_number(const char *s)
{
    while (impair_is_digit(*s) || *s == '.') {
        s++;
    }
    return s;
}

/* "A-B", each end with an optional unit; a bare A takes B's unit, so
 * "1-3s" is one to three seconds. */
static int impair_set_blackout(impair_params *p, const char *s, char *err, size_t cap)
{
    if (p->blackout_count >= IMPAIR_MAX_BLACKOUTS) {
        return impair_fail(err, cap, "blackout: at most %d windows", IMPAIR_MAX_BLACKOUTS);
    }
    const char *dash = strchr(s, '-');
    if (dash == NULL || dash == s) {
        return impair_fail(err, cap, "blackout: '%s' should be START-END (like 1000-3000ms)", s);
    }
    /* s is one word, so it fits in a word buffer. */
    char start_text[IMPAIR_WORD_CAP];
    size_t n = (size_t)(dash - s);
    if (n >= sizeof start_text) {
        return impair_fail(err, cap, "blackout: '%s' is too long", s);
    }
    memcpy(start_text, s, n);
    start_text[n] = '\0';
    const char *end_text = dash + 1;
    uint64_t start, end;
    if (impair_time("blackout end", end_text, "", UINT64_MAX, &end, err, cap) != 0 ||
        impair_time("blackout start", start_text, impair_skip_number(end_text), UINT64_MAX, &start,
                    err, cap) != 0) {
        return -1;
    }
    if (end <= start) {
        return impair_fail(err, cap, "blackout: '%s' does not end after it starts", s);
    }
    p->blackouts[p->blackout_count].start_ms = start;
    p->blackouts[p->blackout_count].end_ms = end;
    p->blackout_count++;
    return 0;
}

static double *impair_percent_field(impair_params *p, const char *name)
{
    if (strcmp(name, "reorder") == 0) {
        return &p->reorder;
    }
    if (strcmp(name, "duplicate") == 0) {
        return &p->duplicate;
    }
    if (strcmp(name, "corrupt") == 0) {
        return &p->corrupt;
    }
    return NULL;
}

typedef int (*impair_single_setter)(impair_params *p, const char *s, char *err, size_t cap);

static impair_single_setter impair_single_field(const char *name)
{
    if (strcmp(name, "jitter") == 0) {
        return impair_set_jitter;
    }
    if (strcmp(name, "rate") == 0) {
        return impair_set_rate;
    }
    if (strcmp(name, "mtu") == 0) {
        return impair_set_mtu;
    }
    if (strcmp(name, "blackout") == 0) {
        return impair_set_blackout;
    }
    return NULL;
}

int impair_params_set(impair_params *p, const char *name, const char *value, char *err,
                      size_t err_cap)
{
    if (err != NULL && err_cap > 0) {
        err[0] = '\0';
    }
    if (name == NULL || value == NULL) {
        return impair_fail(err, err_cap, "missing setting name or value");
    }
    impair_words w;
    if (!impair_split(value, &w)) {
        return impair_fail(err, err_cap, "%s: '%s' is too long", name, value);
    }
    /* Work on a copy, so that a rejected setting changes nothing. */
    impair_params next = *p;
    int rc;
    double *percent = impair_percent_field(&next, name);
    impair_single_setter single = impair_single_field(name);
    if (strcmp(name, "loss") == 0) {
        rc = impair_set_loss(&next, &w, value, err, err_cap);
    } else if (strcmp(name, "delay") == 0) {
        rc = impair_set_delay(&next, &w, value, err, err_cap);
    } else if (percent != NULL || single != NULL) {
        if (w.count != 1) {
            return impair_fail(err, err_cap, "%s: '%s' should be a single value", name, value);
        }
        rc = percent != NULL ? impair_percent(name, w.text[0], percent, err, err_cap)
                             : single(&next, w.text[0], err, err_cap);
    } else {
        return impair_fail(err, err_cap,
                           "unknown setting '%s' (expected loss, delay, jitter, reorder, "
                           "duplicate, corrupt, rate, mtu or blackout)",
                           name);
    }
    if (rc == 0) {
        *p = next;
    }
    return rc;
}

/* ---- describing ---- */

typedef struct impair_out {
    char *buf;
    size_t cap, len;
} impair_out;

static void impair_put(impair_out *o, const char *fmt, ...) PETREL_PRINTF(2, 3);

static void impair_put(impair_out *o, const char *fmt, ...)
{
    if (o->len >= o->cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        o->len += (size_t)n;
    }
}

/* The shortest "%.Nf" spelling of a fraction as a percentage that parses
 * back to the same double. */
static void impair_put_percent(impair_out *o, double fraction)
{
    char text[64];
    for (int decimals = 0; decimals <= IMPAIR_MAX_DIGITS - 3; decimals++) {
        snprintf(text, sizeof text, "%.*f", decimals, fraction * 100.0);
        double back;
        if (impair_percent("", text, &back, NULL, 0) == 0 && back == fraction) {
            break;
        }
    }
    impair_put(o, "%s%%", text);
}

/* Starts a setting: its name, after a blank unless it is the first. */
static void impair_put_name(impair_out *o, const char *name)
{
    impair_put(o, "%s%s ", o->len > 0 ? " " : "", name);
}

static void impair_put_rate(impair_out *o, uint64_t bps)
{
    static const struct {
        const char *unit;
        uint64_t factor;
    } units[] = {{"gbit", 1000000000}, {"mbit", 1000000}, {"kbit", 1000}, {"bit", 1}};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(units); i++) {
        if (bps % units[i].factor == 0) {
            impair_put(o, "%llu%s", (unsigned long long)(bps / units[i].factor), units[i].unit);
            return;
        }
    }
}

void impair_params_describe(const impair_params *p, char *out, size_t cap)
{
    if (out == NULL || cap == 0) {
        return;
    }
    out[0] = '\0';
    impair_out o = {out, cap, 0};
    if (p->gemodel) {
        impair_put_name(&o, "loss");
        impair_put(&o, "gemodel ");
        impair_put_percent(&o, p->ge_p);
        impair_put(&o, " ");
        impair_put_percent(&o, p->ge_r);
        /* 1-H and 1-K only when they differ from their defaults. */
        if (p->ge_loss_bad != 1.0 || p->ge_loss_good != 0.0) {
            impair_put(&o, " ");
            impair_put_percent(&o, p->ge_loss_bad);
        }
        if (p->ge_loss_good != 0.0) {
            impair_put(&o, " ");
            impair_put_percent(&o, p->ge_loss_good);
        }
    } else if (p->loss > 0.0) {
        impair_put_name(&o, "loss");
        impair_put_percent(&o, p->loss);
    }
    if (p->delay_ms > 0) {
        impair_put_name(&o, "delay");
        impair_put(&o, "%lums", (unsigned long)p->delay_ms);
        if (p->jitter_ms > 0) {
            impair_put(&o, " %lums", (unsigned long)p->jitter_ms);
        }
    } else if (p->jitter_ms > 0) {
        impair_put_name(&o, "jitter");
        impair_put(&o, "%lums", (unsigned long)p->jitter_ms);
    }
    const struct {
        const char *name;
        double value;
    } percents[] = {{"reorder", p->reorder}, {"duplicate", p->duplicate}, {"corrupt", p->corrupt}};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(percents); i++) {
        if (percents[i].value > 0.0) {
            impair_put_name(&o, percents[i].name);
            impair_put_percent(&o, percents[i].value);
        }
    }
    if (p->rate_bps != 0) {
        impair_put_name(&o, "rate");
        impair_put_rate(&o, p->rate_bps);
    }
    if (p->mtu != 0) {
        impair_put_name(&o, "mtu");
        impair_put(&o, "%zu", p->mtu);
    }
    size_t count =
        p->blackout_count < IMPAIR_MAX_BLACKOUTS ? p->blackout_count : IMPAIR_MAX_BLACKOUTS;
    for (size_t i = 0; i < count; i++) {
        impair_put_name(&o, "blackout");
        impair_put(&o, "%llu-%llums", (unsigned long long)p->blackouts[i].start_ms,
                   (unsigned long long)p->blackouts[i].end_ms);
    }
    if (o.len == 0) {
        snprintf(out, cap, "none");
    }
}
