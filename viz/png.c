/*
 * png.c: PNG files through libpng's simplified API (png_image), which
 * handles the format details and reports errors as messages instead of
 * longjmp-ing through our code.
 */
#include <config.h>

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/core/error.h"
#include "png.h"

/* The temporary file: path + ".XXXXXX" in the same folder (rename(2) is
   atomic only within one file system). */
static int open_temp(const char *path, char **tmp, FILE **fp) {
    size_t n = strlen(path);
    *tmp = malloc(n + 8);
    if (!*tmp)
        return at_error(AT_ENOMEM, "png: out of memory");
    memcpy(*tmp, path, n);
    memcpy(*tmp + n, ".XXXXXX", 8);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        int e = errno;
        free(*tmp);
        *tmp = NULL;
        return at_error(AT_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    // mkstemp makes the file 0600; a picture is as readable as any new file.
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    *fp = fdopen(fd, "wb");
    if (!*fp) {
        int e = errno;
        close(fd);
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
        return at_error(AT_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    return AT_OK;
}

int viz_png_write(const char *path, const VizImage *img) {
    char *tmp;
    FILE *fp;
    int st = open_temp(path, &tmp, &fp);
    if (st)
        return st;
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)img->w;
    pi.height = (png_uint_32)img->h;
    pi.format = PNG_FORMAT_RGBA;
#ifdef PNG_IMAGE_FLAG_FAST
    // Heatmaps are flat colour areas: fast compression loses little size
    // and writes a 1024x1024 map several times faster.
    pi.flags |= PNG_IMAGE_FLAG_FAST;
#endif
    if (!png_image_write_to_stdio(&pi, fp, 0, img->px, (png_int_32)img->w * 4, NULL))
        st = at_error(AT_EIO, "cannot write '%s': %s", path, pi.message);
    // A full disk may only show at fflush/fclose: check both.
    if (fflush(fp) != 0 && !st)
        st = at_error(AT_EIO, "cannot write '%s': %s", path, strerror(errno));
    if (fclose(fp) != 0 && !st)
        st = at_error(AT_EIO, "cannot write '%s': %s", path, strerror(errno));
    if (!st && rename(tmp, path) != 0)
        st = at_error(AT_EIO, "cannot write '%s': %s", path, strerror(errno));
    if (st)
        unlink(tmp);
    free(tmp);
    return st;
}

int viz_png_read(const char *path, VizImage *img) {
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&pi, path))
        return at_error(AT_EIO, "cannot read '%s': %s", path, pi.message);
    pi.format = PNG_FORMAT_RGBA;
    if (pi.width < 1 || pi.height < 1 || pi.width > VIZ_IMAGE_MAX || pi.height > VIZ_IMAGE_MAX) {
        png_image_free(&pi);
        return at_error(AT_EFORMAT, "'%s': image size %ux%u is out of range", path,
                        (unsigned)pi.width, (unsigned)pi.height);
    }
    uint8_t *px = malloc(PNG_IMAGE_SIZE(pi));
    if (!px) {
        png_image_free(&pi);
        return at_error(AT_ENOMEM, "png: out of memory reading '%s'", path);
    }
    if (!png_image_finish_read(&pi, NULL, px, 0, NULL)) {
        free(px);
        return at_error(AT_EFORMAT, "cannot read '%s': %s", path, pi.message);
    }
    img->w = (int)pi.width;
    img->h = (int)pi.height;
    img->px = px;
    return AT_OK;
}
