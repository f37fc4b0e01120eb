/*
 * The emulator's side of a created thread's register image page (struct
 * hh_image_page in callpage.h): made when a program first asks for it,
 * published at every stop, taken back before the thread runs again or its
 * registers are needed, and dropped when it may no longer be trusted.
 */
#ifndef HH_IMAGE_H
#define HH_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/user.h>

struct hh_image;

/* A new page showing regs (published as stopped at sequence if stopped); NULL on failure. */
struct hh_image *hh_image_new(const struct user_regs_struct *regs, bool stopped, uint64_t sequence);
/* The page's memfd, to send to a program. */
int hh_image_fd(const struct hh_image *im);
/* The thread stopped at sequence with regs: programs may read and store them now. */
void hh_image_publish(struct hh_image *im, const struct user_regs_struct *regs, uint64_t sequence);
/*
 * Take the image back: programs see the thread as not stopped, and the sets
 * they stored go into *regs.  False when a store was cut short: the page
 * must be dropped (hh_image_drop).
 */
bool hh_image_take(struct hh_image *im, struct user_regs_struct *regs);
/* Mark the page dead for the programs that map it, and free ours (*im becomes NULL). */
void hh_image_drop(struct hh_image **im);

#endif
