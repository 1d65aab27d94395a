/*
 * format.h: tensors as text, the way a careful numpy prints them.
 *
 * Columns are aligned, precision follows the values (integers without
 * decimals, fixed 4 decimals, or scientific when magnitudes span a lot),
 * and big tensors show only their edges around "...", so printing a
 * 10000 x 10000 tensor touches a few dozen elements and is instant.
 */
#ifndef AT_FORMAT_H
#define AT_FORMAT_H

#include "tensor.h"

/* The text of a host tensor ending in a footer like "[tensor 4x4 cpu]";
   device names the device for the footer. Lines stay within `width`
   columns where eliding columns can make them. A malloc'd string the
   caller frees, or NULL with AT_ENOMEM. */
char *tensor_format(const Tensor *t, const char *device, int width);

#endif
