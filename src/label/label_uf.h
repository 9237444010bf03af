/* Union-find shared by tile labelling (over runs) and the border merge
 * (over global labels). */
#ifndef RW_LABEL_UF_H
#define RW_LABEL_UF_H

#include <stddef.h>

static inline size_t rw_uf_find(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]]; /* path halving */
        i = parent[i];
    }
    return i;
}

/* The smaller index stays the root, so a set's root is its first member in
 * scan order: numbering roots in index order is then deterministic. */
static inline void rw_uf_unite(size_t *parent, size_t a, size_t b)
{
    a = rw_uf_find(parent, a);
    b = rw_uf_find(parent, b);
    if (a < b)
        parent[b] = a;
    else
        parent[a] = b;
}

#endif
