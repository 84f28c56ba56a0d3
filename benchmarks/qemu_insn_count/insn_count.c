/* A QEMU TCG plugin that counts the guest instructions a program executes, in total and per
 * function (the ELF symbol of each translation block's first instruction; inlined code counts
 * toward its caller). Used by benchmarks/bench_arm64_insns.py to compare arm64 kernels and
 * packings where no arm64 hardware is at hand.
 *
 *   qemu-aarch64 -plugin ./insn_count.so,out=counts.tsv ... program
 *
 * writes "total<TAB>N" then "<symbol><TAB>N" lines, largest first, at exit.
 *
 * Debian ships qemu-user with plugin support but no plugin header, so the few entry points used
 * here are declared below, as the plugin API version 1 of QEMU 7.2 defines them. The counters
 * are inline adds compiled into the translated code: exact for a single-threaded guest, racy
 * (undercounting) when several guest threads run, so run the guest with one thread.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                                  void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *), void *userdata);
extern void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                                     uint64_t imm);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
extern const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_outs(const char *string);

/* One counter per symbol, found by name in an open-addressing table. Translation is rare next
 * to execution, so a linear probe at translation time costs nothing measurable. */
typedef struct {
    const char *name; /* owned by QEMU's symbol table, lives for the whole run */
    uint64_t count;
} Counter;

enum { kSlots = 1 << 16 };
static Counter counters[kSlots];
static Counter unnamed = {"(no symbol)", 0};
static char *out_path;

static Counter *counter_for(const char *name) {
    if (!name) return &unnamed;
    uint64_t h = 1469598103934665603ull;
    for (const char *c = name; *c; ++c) h = (h ^ (unsigned char)*c) * 1099511628211ull;
    for (size_t i = 0; i < kSlots; ++i) {
        Counter *slot = &counters[(h + i) & (kSlots - 1)];
        if (!slot->name) slot->name = name;
        if (slot->name == name || strcmp(slot->name, name) == 0) return slot;
    }
    return &unnamed; /* table full: count without a name rather than lose instructions */
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (n == 0) return;
    Counter *c = counter_for(qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, 0)));
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &c->count, n);
}

static int by_count_descending(const void *a, const void *b) {
    uint64_t x = (*(Counter *const *)a)->count, y = (*(Counter *const *)b)->count;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void write_counts(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    static Counter *sorted[kSlots + 1];
    size_t used = 0;
    uint64_t total = unnamed.count;
    for (size_t i = 0; i < kSlots; ++i)
        if (counters[i].name && counters[i].count) {
            sorted[used++] = &counters[i];
            total += counters[i].count;
        }
    if (unnamed.count) sorted[used++] = &unnamed;
    qsort(sorted, used, sizeof sorted[0], by_count_descending);
    FILE *out = out_path ? fopen(out_path, "w") : NULL;
    if (!out) {
        qemu_plugin_outs("insn_count: cannot write the out= file\n");
        return;
    }
    fprintf(out, "total\t%llu\n", (unsigned long long)total);
    for (size_t i = 0; i < used; ++i) fprintf(out, "%s\t%llu\n", sorted[i]->name, (unsigned long long)sorted[i]->count);
    fclose(out);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; ++i)
        if (strncmp(argv[i], "out=", 4) == 0) out_path = strdup(argv[i] + 4);
    if (!out_path) {
        qemu_plugin_outs("insn_count: give out=FILE\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, write_counts, NULL);
    return 0;
}
