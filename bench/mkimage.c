/*
 * mkimage.c - writes a W x H JPEG photo stand-in (smooth gradients with
 * noise, so it compresses like a photograph, not like a flat fill) for
 * the thumbnail benchmark.
 *
 *   mkimage OUT.jpg WIDTH HEIGHT [SEED]
 *
 * Build: cc -O2 -o mkimage mkimage.c $(pkg-config --cflags --libs gdlib)
 */
#include <gd.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: mkimage OUT.jpg WIDTH HEIGHT [SEED]\n");
        return 2;
    }
    int w = atoi(argv[2]), h = atoi(argv[3]);
    unsigned seed = argc > 4 ? (unsigned)atoi(argv[4]) : 1;
    if (w < 1 || h < 1 || w > 10000 || h > 10000) {
        fprintf(stderr, "mkimage: bad size\n");
        return 2;
    }
    gdImagePtr im = gdImageCreateTrueColor(w, h);
    if (!im)
        return 1;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            seed = seed * 1103515245u + 12345u;
            int n = (int)((seed >> 16) & 31) - 16;
            int r = (x * 255 / w + n) & 255;
            int g = (y * 255 / h + n) & 255;
            int b = ((x + y) * 127 / (w + h) + 64 + n) & 255;
            gdImageSetPixel(im, x, y, gdTrueColor(r, g, b));
        }
    }
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    gdImageJpeg(im, f, 85);
    gdImageDestroy(im);
    return fclose(f) == 0 ? 0 : 1;
}
