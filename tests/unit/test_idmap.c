/*
 * Unit tests of common/idmap.c: the append-sorted map from client id to
 * object.  Objects are addresses inside one array, so that a lookup
 * returning the wrong entry shows.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "idmap.h"

#define N 1000

static char objs[N + 1];

/* The object stored for id (ids 1..N). */
static void *
obj(uint64_t id)
{
	return &objs[id % (N + 1)];
}

/* Visits the map in order; asserts ascending ids and live objects, and
 * returns the number of entries. */
static size_t
walk(const struct idmap *m, uint64_t *ids, size_t max)
{
	size_t n = 0;
	uint64_t last = 0;

	IDMAP_FOREACH (m, i) {
		assert_true(n == 0 || m->slots[i].id > last);
		last = m->slots[i].id;
		assert_ptr_equal(m->slots[i].obj, obj(last));
		if (ids != NULL && n < max)
			ids[n] = last;
		n++;
	}
	assert_int_equal(n, m->count);
	return n;
}

/* An empty map finds nothing, removes nothing and frees cleanly. */
static void
empty_map(void **state)
{
	struct idmap m;

	(void)state;
	idmap_init(&m);
	assert_null(idmap_find(&m, 0));
	assert_null(idmap_find(&m, 1));
	assert_null(idmap_remove(&m, 1));
	assert_int_equal(walk(&m, NULL, 0), 0);
	idmap_free(&m);
	assert_null(m.slots);
	assert_int_equal(m.len, 0);
}

/* Ascending ids are added and each is found with its own object. */
static void
add_ascending_and_find(void **state)
{
	struct idmap m;

	(void)state;
	idmap_init(&m);
	for (uint64_t id = 1; id <= N; id++)
		assert_int_equal(idmap_add(&m, id * 3, obj(id * 3)), 0);
	assert_int_equal(m.count, N);
	for (uint64_t id = 1; id <= N; id++) {
		assert_ptr_equal(idmap_find(&m, id * 3), obj(id * 3));
		assert_null(idmap_find(&m, id * 3 - 1));
		assert_null(idmap_find(&m, id * 3 + 1));
	}
	assert_null(idmap_find(&m, 0));
	assert_null(idmap_find(&m, UINT64_MAX));
	idmap_free(&m);
}

/* An id not above every earlier one is refused and changes nothing. */
static void
refuses_non_ascending(void **state)
{
	struct idmap m;

	(void)state;
	idmap_init(&m);
	assert_int_equal(idmap_add(&m, 10, obj(10)), 0);
	assert_int_equal(idmap_add(&m, 20, obj(20)), 0);
	assert_int_equal(idmap_add(&m, 20, obj(21)), -1);
	assert_int_equal(idmap_add(&m, 15, obj(15)), -1);
	assert_int_equal(idmap_add(&m, 1, obj(1)), -1);
	assert_int_equal(m.count, 2);
	assert_ptr_equal(idmap_find(&m, 20), obj(20));
	assert_null(idmap_find(&m, 15));
	/* a removed id still counts: ids are never reused */
	assert_ptr_equal(idmap_remove(&m, 20), obj(20));
	assert_int_equal(idmap_add(&m, 20, obj(20)), -1);
	assert_int_equal(idmap_add(&m, 21, obj(21)), 0);
	idmap_free(&m);
}

/* Removal returns the object once, leaves a hole, and keeps the others
 * findable; removing a missing id returns NULL. */
static void
remove_leaves_holes(void **state)
{
	struct idmap m;
	uint64_t ids[8];

	(void)state;
	idmap_init(&m);
	for (uint64_t id = 1; id <= 8; id++)
		assert_int_equal(idmap_add(&m, id, obj(id)), 0);
	assert_ptr_equal(idmap_remove(&m, 3), obj(3));
	assert_null(idmap_remove(&m, 3));
	assert_ptr_equal(idmap_remove(&m, 1), obj(1));
	assert_ptr_equal(idmap_remove(&m, 8), obj(8));
	assert_null(idmap_remove(&m, 9));
	assert_null(idmap_remove(&m, 0));
	assert_int_equal(m.count, 5);
	assert_int_equal(m.len, 8); /* holes stay until a compaction */
	assert_null(idmap_find(&m, 3));
	assert_int_equal(walk(&m, ids, 8), 5);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 4);
	assert_int_equal(ids[4], 7);
	idmap_free(&m);
}

/* Removing entries while iterating is safe and visits the rest. */
static void
remove_during_iteration(void **state)
{
	struct idmap m;
	size_t seen = 0;

	(void)state;
	idmap_init(&m);
	for (uint64_t id = 1; id <= 100; id++)
		assert_int_equal(idmap_add(&m, id, obj(id)), 0);
	IDMAP_FOREACH (&m, i) {
		uint64_t id = m.slots[i].id;
		seen++;
		assert_ptr_equal(idmap_remove(&m, id), obj(id));
		if (id + 1 <= 100 && id % 2 == 1)
			assert_ptr_equal(idmap_remove(&m, id + 1), obj(id + 1));
	}
	assert_int_equal(seen, 50);
	assert_int_equal(m.count, 0);
	assert_int_equal(walk(&m, NULL, 0), 0);
	idmap_free(&m);
}

/* Compaction (triggered by adds once holes fill the array) keeps order
 * and every lookup, and bounds the array by the live entries. */
static void
compaction_preserves_order_and_lookups(void **state)
{
	struct idmap m;
	uint64_t next = 1;
	size_t maxcap = 0;

	(void)state;
	idmap_init(&m);
	/* a sliding window: 40 live entries, ids always growing */
	for (int round = 0; round < 5000; round++) {
		assert_int_equal(idmap_add(&m, next, obj(next)), 0);
		if (next > 40)
			assert_ptr_equal(
			    idmap_remove(&m, next - 40), obj(next - 40));
		next++;
		if (m.cap > maxcap)
			maxcap = m.cap;
	}
	assert_int_equal(m.count, 40);
	assert_true(maxcap <= 128); /* holes were reclaimed, not grown over */
	assert_true(m.len <= m.cap);
	for (uint64_t id = 1; id < next; id++) {
		if (id >= next - 40)
			assert_ptr_equal(idmap_find(&m, id), obj(id));
		else
			assert_null(idmap_find(&m, id));
	}
	assert_int_equal(walk(&m, NULL, 0), 40);
	idmap_free(&m);
}

/* A compaction with holes scattered across the array keeps exactly the
 * live entries in ascending order. */
static void
compaction_with_scattered_holes(void **state)
{
	struct idmap m;
	uint64_t ids[64];
	size_t n;

	(void)state;
	idmap_init(&m);
	for (uint64_t id = 1; id <= 64; id++)
		assert_int_equal(idmap_add(&m, id * 10, obj(id * 10)), 0);
	assert_int_equal(m.len, m.cap); /* full: the next add compacts */
	for (uint64_t id = 1; id <= 64; id++)
		if (id % 3 != 0)
			assert_non_null(idmap_remove(&m, id * 10));
	assert_int_equal(idmap_add(&m, 1000, obj(1000)), 0);
	assert_int_equal(m.len, m.count); /* the holes are gone */
	n = walk(&m, ids, 64);
	assert_int_equal(n, 22);
	for (size_t i = 0; i < 21; i++)
		assert_int_equal(ids[i], (i + 1) * 30);
	assert_int_equal(ids[21], 1000);
	for (uint64_t id = 1; id <= 64; id++) {
		if (id % 3 == 0)
			assert_ptr_equal(idmap_find(&m, id * 10), obj(id * 10));
		else
			assert_null(idmap_find(&m, id * 10));
	}
	assert_ptr_equal(idmap_find(&m, 1000), obj(1000));
	idmap_free(&m);
}

/* With few holes the array grows instead of compacting, and the map
 * still iterates in order. */
static void
growth_keeps_order(void **state)
{
	struct idmap m;
	uint64_t ids[N];
	size_t n;

	(void)state;
	idmap_init(&m);
	for (uint64_t id = 1; id <= N; id++) {
		assert_int_equal(idmap_add(&m, id, obj(id)), 0);
		if (id % 10 == 0)
			assert_non_null(idmap_remove(&m, id));
	}
	n = walk(&m, ids, N);
	assert_int_equal(n, N - N / 10);
	for (size_t i = 1; i < n; i++)
		assert_true(ids[i] > ids[i - 1]);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[n - 1], N - 1);
	idmap_free(&m);
}

/* Ids near UINT64_MAX work like any other. */
static void
large_ids(void **state)
{
	struct idmap m;

	(void)state;
	idmap_init(&m);
	assert_int_equal(idmap_add(&m, 0, obj(0)), 0);
	assert_int_equal(idmap_add(&m, UINT64_MAX - 1, obj(1)), 0);
	assert_int_equal(idmap_add(&m, UINT64_MAX, obj(2)), 0);
	assert_int_equal(idmap_add(&m, UINT64_MAX, obj(3)), -1);
	assert_ptr_equal(idmap_find(&m, 0), obj(0));
	assert_ptr_equal(idmap_find(&m, UINT64_MAX - 1), obj(1));
	assert_ptr_equal(idmap_find(&m, UINT64_MAX), obj(2));
	idmap_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(empty_map),
	    cmocka_unit_test(add_ascending_and_find),
	    cmocka_unit_test(refuses_non_ascending),
	    cmocka_unit_test(remove_leaves_holes),
	    cmocka_unit_test(remove_during_iteration),
	    cmocka_unit_test(compaction_preserves_order_and_lookups),
	    cmocka_unit_test(compaction_with_scattered_holes),
	    cmocka_unit_test(growth_keeps_order),
	    cmocka_unit_test(large_ids),
	};

	return cmocka_run_group_tests_name("idmap", tests, NULL, NULL);
}
