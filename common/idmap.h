/*
 * A map from client id to object, for ids that only ever grow.
 *
 * Client ids are handed out in ascending order and never reused, so the
 * map is an array kept sorted by appending: lookup is a binary search,
 * iteration is in ascending id order (what /who prints), and removal
 * leaves a hole that a later compaction closes.  Holes make removal during
 * iteration safe; compaction only happens in idmap_add().
 */
#ifndef CHATD_IDMAP_H
#define CHATD_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap_slot {
	uint64_t id;
	void *obj; /* NULL = removed */
};

struct idmap {
	struct idmap_slot *slots;
	size_t len; /* slots used, holes included */
	size_t cap;
	size_t count; /* live entries */
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
/* id must be greater than every id added before.  0 or -1 (no memory). */
int idmap_add(struct idmap *m, uint64_t id, void *obj);
void *idmap_find(const struct idmap *m, uint64_t id);
/* Returns the object removed, or NULL. */
void *idmap_remove(struct idmap *m, uint64_t id);

/* for (size_t i = 0; i < m->len; i++) if (m->slots[i].obj) ... is the
 * iteration; IDMAP_FOREACH spells it. */
#define IDMAP_FOREACH(m, i)                                                    \
	for (size_t i = 0; (i) < (m)->len; (i)++)                              \
		if ((m)->slots[i].obj != NULL)

#endif
