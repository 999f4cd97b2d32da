/* arrow_node.c — owning nodes of exported Arrow C Data Interface structs (arrow_node.h). */
#include "arrow_node.h"
#include "mem.h"
#include <string.h>

typedef struct anode {
    const void *bufs[3];
    void *mem[3];            /* what bufs point to; freed on release */
    struct ArrowArray *kids; /* the children's structs */
    struct ArrowArray **kidp;
} anode;

typedef struct snode {
    char *format, *name;
    struct ArrowSchema *kids;
    struct ArrowSchema **kidp;
} snode;

static void array_release(struct ArrowArray *a)
{
    anode *nd = a->private_data;
    for (int64_t i = 0; i < a->n_children; i++)
        if (a->children[i]->release)
            a->children[i]->release(a->children[i]);
    if (nd) {
        for (int i = 0; i < 3; i++)
            rhei__free(nd->mem[i]);
        rhei__free(nd->kids);
        rhei__free(nd->kidp);
        rhei__free(nd);
    }
    a->release = NULL;
}

static void schema_release(struct ArrowSchema *s)
{
    snode *nd = s->private_data;
    for (int64_t i = 0; i < s->n_children; i++)
        if (s->children[i]->release)
            s->children[i]->release(s->children[i]);
    if (nd) {
        rhei__free(nd->format);
        rhei__free(nd->name);
        rhei__free(nd->kids);
        rhei__free(nd->kidp);
        rhei__free(nd);
    }
    s->release = NULL;
}

int rhei__arrow_array_init(struct ArrowArray *a, int64_t length, int64_t n_buffers, size_t nkids)
{
    memset(a, 0, sizeof *a);
    anode *nd = rhei__calloc(1, sizeof *nd);
    if (!nd)
        return RHEI_NOMEM;
    a->length = length;
    a->n_buffers = n_buffers;
    a->buffers = nd->bufs;
    a->private_data = nd;
    a->release = array_release;
    if (nkids) {
        nd->kids = rhei__calloc(nkids, sizeof *nd->kids);
        nd->kidp = rhei__calloc(nkids, sizeof *nd->kidp);
        if (!nd->kids || !nd->kidp) {
            a->release(a);
            return RHEI_NOMEM;
        }
        for (size_t i = 0; i < nkids; i++)
            nd->kidp[i] = &nd->kids[i];
        a->children = nd->kidp;
        a->n_children = (int64_t)nkids;
    }
    return RHEI_OK;
}

void rhei__arrow_array_own(struct ArrowArray *a, int i, void *mem)
{
    anode *nd = a->private_data;
    rhei__free(nd->mem[i]);
    nd->mem[i] = mem;
    nd->bufs[i] = mem;
}

void *rhei__arrow_array_buffer(struct ArrowArray *a, int i, size_t bytes)
{
    void *m = rhei__calloc(1, bytes ? bytes : 1);
    if (m)
        rhei__arrow_array_own(a, i, m);
    return m;
}

int rhei__arrow_schema_init(struct ArrowSchema *s, const char *format, const char *name,
                            size_t nkids)
{
    memset(s, 0, sizeof *s);
    snode *nd = rhei__calloc(1, sizeof *nd);
    if (!nd)
        return RHEI_NOMEM;
    s->private_data = nd;
    s->release = schema_release;
    nd->format = rhei__strdup(format);
    nd->name = rhei__strdup(name);
    if (nkids) {
        nd->kids = rhei__calloc(nkids, sizeof *nd->kids);
        nd->kidp = rhei__calloc(nkids, sizeof *nd->kidp);
    }
    if (!nd->format || !nd->name || (nkids && (!nd->kids || !nd->kidp))) {
        s->release(s);
        return RHEI_NOMEM;
    }
    for (size_t i = 0; i < nkids; i++)
        nd->kidp[i] = &nd->kids[i];
    s->format = nd->format;
    s->name = nd->name;
    s->children = nd->kidp;
    s->n_children = (int64_t)nkids;
    return RHEI_OK;
}
