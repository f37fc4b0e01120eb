/*
 * The emulator's alive page, which every program maps, cannot be written by
 * a program (it could fake the emulator's death to all the others): not
 * through libhel's mapping, nor through the file behind it, reached with
 * /proc/self/map_files (root only).  Each next to a positive control on a
 * memfd of our own.  (test_limits checks that no memfd can shrink.)
 */
#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <hel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fixture.h"


/* The first mapping whose line in /proc/self/maps names the memfd; its range in *range. */
static void *find_mapping(const char *memfd_name, char *range, size_t size)
{
	FILE *f = fopen("/proc/self/maps", "re");
	ck_assert_ptr_nonnull(f);
	char line[512];
	void *found = NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long lo;
		if (strstr(line, memfd_name) && sscanf(line, "%lx-", &lo) == 1) {
			snprintf(range, size, "%.*s", (int)strcspn(line, " "), line);
			found = (void *)lo;
		}
	}
	fclose(f);
	return found;
}

/* The file behind a mapping, read-write, through map_files (needs CAP_SYS_ADMIN). */
static int open_behind(const char *range)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/self/map_files/%s", range);
	return open(path, O_RDWR | O_CLOEXEC);
}

START_TEST(test_sealing_alive_page_read_only)
{
	/* Positive control: a read-only shared mapping of our own memfd can become writable. */
	int own = memfd_create("sealing-control", MFD_CLOEXEC);
	ck_assert_int_ge(own, 0);
	ck_assert_int_eq(ftruncate(own, 4096), 0);
	void *mine = mmap(NULL, 4096, PROT_READ, MAP_SHARED, own, 0);
	ck_assert_ptr_ne(mine, MAP_FAILED);
	ck_assert_int_eq(mprotect(mine, 4096, PROT_READ | PROT_WRITE), 0);
	/* should fail: making libhel's mapping of the alive page writable */
	ck_assert_int_eq(helNop(), kHelErrNone);
	char range[64];
	void *alive = find_mapping("helhost-alive", range, sizeof(range));
	ck_assert_ptr_nonnull(alive);
	ck_assert_int_eq(mprotect(alive, 4096, PROT_READ | PROT_WRITE), -1);
	if (geteuid() != 0)
		return;
	/* should fail: writing it, or mapping it writable anew, through its file */
	int fd = open_behind(range);
	ck_assert_int_ge(fd, 0);
	uint32_t word = 0x40000000;     /* FUTEX_OWNER_DIED */
	ck_assert_int_eq(pwrite(fd, &word, sizeof(word), 64), -1);
	ck_assert_ptr_eq(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sealing");
	TCase *tc = hh_test_case(s, "sealing", 30);
	tcase_add_test(tc, test_sealing_alive_page_read_only);
	return hh_test_main(s);
}
