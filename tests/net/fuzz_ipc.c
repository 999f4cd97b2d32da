/* fuzz_ipc.c — fuzz target of the IPC reader (untrusted DoPut input). Standalone mode (no
 * libFuzzer needed): mutates valid schema and batch messages written by the IPC writer for
 * a bounded time and feeds them to the reader; ASan/UBSan catch any bad access.
 * Usage: fuzz_ipc SECONDS SEED (the seed is printed). With libFuzzer, LLVMFuzzerTestOneInput
 * takes the first byte as a selector between schema and batch. */
#include "ipc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct ArrowSchema g_schema;
static int g_have_schema;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[IPC_ERR_MAX];
    struct ArrowSchema s;
    struct ArrowArray a;
    if (size < 2)
        return 0;
    size_t split = data[0] % (size - 1);
    if (ipc_read_schema(data + 1, size - 1, &s, err) == 0)
        s.release(&s);
    if (g_have_schema && ipc_read_batch(&g_schema, data + 1, split, data + 1 + split,
                                        size - 1 - split, &a, err) == 0) {
        for (int64_t c = 0; c < a.n_children; c++) { /* touch every validated byte */
            const struct ArrowArray *k = a.children[c];
            volatile uint8_t sink = 0;
            if (k->n_buffers > 1 && k->buffers[1] && k->length)
                sink ^= ((const uint8_t *)k->buffers[1])[0];
            (void)sink;
        }
        a.release(&a);
    }
    return 0;
}

#ifdef RHEI_FUZZ_STANDALONE
/* A schema (int64, utf8, bool, double, decimal) and one batch, hand-built as C Data. */
static int64_t ints[4] = {1, -2, 3, 1 << 20};
static int32_t offs[5] = {0, 1, 3, 3, 6};
static uint8_t valid[1] = {0x0b}, bools[1] = {0x05};
static double dbl[4] = {0.5, 1.5, -2, 1e10};
static uint8_t dec[64];

static void build(struct ArrowSchema *sc, struct ArrowArray *a)
{
    static struct ArrowSchema cs[5] = {{.format = "l", .name = "i"}, {.format = "u", .name = "s"},
                                       {.format = "b", .name = "b"}, {.format = "g", .name = "g"},
                                       {.format = "d:10,2", .name = "d"}};
    static struct ArrowSchema *csp[5] = {&cs[0], &cs[1], &cs[2], &cs[3], &cs[4]};
    static const void *b0[2], *b1[3], *b2[2], *b3[2], *b4[2], *top[1];
    static struct ArrowArray ca[5], *cap[5] = {&ca[0], &ca[1], &ca[2], &ca[3], &ca[4]};
    b0[1] = ints, b1[0] = valid, b1[1] = offs, b1[2] = "abcdef", b2[1] = bools, b3[1] = dbl;
    b4[1] = dec;
    const void **bufs[5] = {b0, b1, b2, b3, b4};
    for (int i = 0; i < 5; i++) {
        ca[i] = (struct ArrowArray){.length = 4, .n_buffers = i == 1 ? 3 : 2, .buffers = bufs[i]};
        cs[i].flags = ARROW_FLAG_NULLABLE;
    }
    ca[1].null_count = 1;
    *sc = (struct ArrowSchema){.format = "+s", .name = "", .n_children = 5, .children = csp};
    *a = (struct ArrowArray){.length = 4, .n_buffers = 1, .buffers = top, .n_children = 5,
                             .children = cap};
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10;
    unsigned seed = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : (unsigned)time(NULL);
    char err[IPC_ERR_MAX];
    struct ArrowSchema sc;
    struct ArrowArray a;
    ipc_msg sm, bm[3];
    uint8_t *enc[3];
    size_t encn[3];
    printf("fuzz_ipc: seed %u, %.0f s\n", seed, seconds);
    srand(seed);
    build(&sc, &a);
    if (ipc_schema_msg(&sc, &sm, err) || ipc_read_schema(sm.meta, sm.meta_len, &g_schema, err)) {
        fprintf(stderr, "fuzz_ipc: %s\n", err);
        return 1;
    }
    g_have_schema = 1;
    for (int c = 0; c < 3; c++)
        if (ipc_batch_msg(&sc, &a, c, 4 - c, c, &bm[c], err) || ipc_encapsulate(&bm[c], &enc[c], &encn[c])) {
            fprintf(stderr, "fuzz_ipc: %s\n", err);
            return 1;
        }
    clock_t end = clock() + (clock_t)(seconds * CLOCKS_PER_SEC);
    long runs = 0;
    uint8_t buf[4096];
    while (clock() < end) {
        int c = rand() % 4;
        const uint8_t *src = c < 3 ? enc[c] + 8 : sm.meta;
        size_t n = c < 3 ? encn[c] - 8 : sm.meta_len;
        if (n + 1 > sizeof buf)
            continue;
        buf[0] = (uint8_t)(c < 3 ? bm[c].meta_len % (n) : 0);
        memcpy(buf + 1, src, n);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++) {
            size_t at = 1 + (size_t)rand() % n;
            buf[at] = rand() % 3 ? (uint8_t)rand() : (uint8_t)(buf[at] ^ (1u << (rand() % 8)));
        }
        size_t len = 1 + (rand() % 8 ? n : (size_t)rand() % n);
        if (c < 3)
            buf[0] = (uint8_t)bm[c].meta_len; /* meta_len < 256 for these messages */
        LLVMFuzzerTestOneInput(buf, len);
        runs++;
    }
    printf("fuzz_ipc: %ld runs, no crash\n", runs);
    for (int c = 0; c < 3; c++) {
        ipc_msg_free(&bm[c]);
        free(enc[c]);
    }
    ipc_msg_free(&sm);
    g_schema.release(&g_schema);
    return 0;
}
#endif
