/*
 * test_files.c - file field helpers (src/core/files.c, src/core/thumb.c):
 * PocketBase's name sanitizing, the stored-name check that guards every
 * path, content type matching, and the thumb size parser and geometry.
 */
#include <stdlib.h>
#include <string.h>

#include "basalt.h"
#include "core/files.h"
#include "core/thumb.h"
#include "harness.h"

static const char *norm(const char *orig, const char *fallback)
{
    static char out[160];
    bs_files_normalize_name(orig, fallback, "abcdefghij", out);
    return out;
}

TEST(names_like_pocketbase)
{
    CHECK_STR(norm("test.png", ""), "test_abcdefghij.png");
    CHECK_STR(norm("My Report.final.txt", ""),
              "my_report_abcdefghij.final.txt");
    CHECK_STR(norm("archive.tar.gz", ""), "archive_abcdefghij.tar.gz");
    CHECK_STR(norm("helloWorldFile.PNG", ""),
              "hello_world_file_abcdefghij.PNG");
    CHECK_STR(norm("HTTPServer.js", ""), "httpserver_abcdefghij.js");
    CHECK_STR(norm("../../etc/passwd", ".txt"), "passwd_abcdefghij.txt");
    CHECK_STR(norm("..\\..\\win\\evil.exe", ""), "evil_abcdefghij.exe");
    CHECK_STR(norm("x y\x01z.t$x<t", ""), "x_y_z_abcdefghij.txt");
    CHECK_STR(norm("noext", ".png"), "noext_abcdefghij.png");
    CHECK_STR(norm("noext", ""), "noext_abcdefghij");
    CHECK_STR(norm("...hidden...", ""), "hidden_abcdefghij");
    /* Short bases are padded with 10 random characters. */
    const char *s = norm("a.txt", "");
    CHECK(strlen(s) == strlen("a") + 10 + strlen("_abcdefghij.txt"));
    CHECK(s[0] == 'a' && strcmp(s + 11, "_abcdefghij.txt") == 0);
    /* Long bases are cut at 100, long extensions keep their last 20. */
    char big[400];
    memset(big, 'b', 350);
    strcpy(big + 350, ".ext");
    s = norm(big, "");
    CHECK(strlen(s) == 100 + 11 + 4);
    memset(big, 'c', 10);
    big[10] = '.';
    memset(big + 11, 'e', 40);
    big[51] = '\0';
    s = norm(big, "");
    CHECK(strlen(strchr(s, '.') + 1) == 20);
}

TEST(new_names_are_random_and_valid)
{
    char a[160], b[160];
    REQUIRE(bs_files_new_name("photo.jpg", "", a) == 0);
    REQUIRE(bs_files_new_name("photo.jpg", "", b) == 0);
    CHECK(strcmp(a, b) != 0);
    CHECK(strncmp(a, "photo_", 6) == 0 && strlen(a) == 6 + 10 + 4);
    CHECK(bs_files_name_valid(a));
}

TEST(stored_name_check)
{
    const char *good[] = {"a", "test_52iwbgds7l.png", "x..y", "a b"};
    const char *bad[] = {"", ".", "..", ".attrs", "a/b", "a\\b", "../x",
                         "a\x01", "a\x7f", "tab\tname"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(bs_files_name_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!bs_files_name_valid(bad[i]));
    char longname[200];
    memset(longname, 'a', 151);
    longname[151] = '\0';
    CHECK(!bs_files_name_valid(longname));
    longname[150] = '\0';
    CHECK(bs_files_name_valid(longname));
    /* Every name the sanitizer makes is a valid stored name, whatever
     * bytes the client sent. */
    unsigned seed = 7;
    for (int round = 0; round < 2000; round++) {
        char in[64];
        int n = (int)(rand_r(&seed) % 63);
        for (int i = 0; i < n; i++)
            in[i] = (char)(1 + rand_r(&seed) % 255);
        in[n] = '\0';
        CHECK(bs_files_name_valid(norm(in, "")));
    }
}

TEST(type_matching)
{
    json_object *types = json_tokener_parse("[\"image/png\",\"text/plain\"]");
    CHECK(bs_files_type_allowed(types, "image/png"));
    CHECK(bs_files_type_allowed(types, "text/plain; charset=utf-8"));
    CHECK(bs_files_type_allowed(types, "application/json"));
    CHECK(!bs_files_type_allowed(types, "image/jpeg"));
    CHECK(bs_files_type_allowed(NULL, "anything/at-all"));
    json_object_put(types);
    CHECK_STR(bs_files_ext_for_type("image/png"), ".png");
    CHECK_STR(bs_files_ext_for_type("text/plain; charset=utf-8"), ".txt");
    CHECK_STR(bs_files_ext_for_type("x/unknown"), "");
}

TEST(thumb_sizes)
{
    bs_thumb_size z;
    REQUIRE(bs_thumb_parse("100x50", &z));
    CHECK(z.w == 100 && z.h == 50 && z.mode == 'c');
    REQUIRE(bs_thumb_parse("100x50t", &z));
    CHECK(z.mode == 't');
    REQUIRE(bs_thumb_parse("0x50b", &z));
    CHECK(z.w == 0 && z.mode == 'b');
    REQUIRE(bs_thumb_parse("70x0f", &z));
    CHECK(z.h == 0 && z.mode == 'f');
    const char *bad[] = {"", "0x0", "x10", "10x", "10x10x", "10x10c",
                         "-1x10", "10 x10", "99999x1", "10x10tt", "1e2x3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!bs_thumb_parse(bad[i], &z));
    CHECK(!bs_thumb_parse(NULL, &z));
}

TEST(thumb_geometry)
{
    bs_thumb_size z;
    int ow, oh, sx, sy, sw, sh;
    bs_thumb_parse("20x10", &z);
    bs_thumb_geometry(40, 40, &z, &ow, &oh, &sx, &sy, &sw, &sh);
    CHECK(ow == 20 && oh == 10 && sx == 0 && sy == 10 && sw == 40 &&
          sh == 20);
    bs_thumb_parse("20x10t", &z);
    bs_thumb_geometry(40, 40, &z, &ow, &oh, &sx, &sy, &sw, &sh);
    CHECK(sy == 0);
    bs_thumb_parse("20x10b", &z);
    bs_thumb_geometry(40, 40, &z, &ow, &oh, &sx, &sy, &sw, &sh);
    CHECK(sy == 20);
    bs_thumb_parse("0x8", &z);
    bs_thumb_geometry(40, 20, &z, &ow, &oh, &sx, &sy, &sw, &sh);
    CHECK(ow == 16 && oh == 8);
    bs_thumb_parse("8x0", &z);
    bs_thumb_geometry(40, 20, &z, &ow, &oh, &sx, &sy, &sw, &sh);
    CHECK(ow == 8 && oh == 4);
    bs_thumb_parse("10x10f", &z);
    bs_thumb_geometry(40, 20, &z, &ow, &oh, &sx, &sy, &sw, &sh);
    CHECK(ow == 10 && oh == 5 && sw == 40 && sh == 20);
    bs_thumb_geometry(4, 2, &z, &ow, &oh, &sx, &sy, &sw, &sh);
    CHECK(ow == 4 && oh == 2); /* never enlarged */
    /* A narrow crop of a small image keeps at least one source pixel
     * (found by fuzz_filename: 5x384 on a 6x6 image cropped to 0). */
    bs_thumb_parse("5x384", &z);
    bs_thumb_geometry(6, 6, &z, &ow, &oh, &sx, &sy, &sw, &sh);
    CHECK(sw >= 1 && sh >= 1 && sx >= 0 && sy >= 0 && sx + sw <= 6 &&
          sy + sh <= 6);
    CHECK(bs_thumb_supported("image/webp") && !bs_thumb_supported("image/svg+xml"));
}

int main(void)
{
    RUN(names_like_pocketbase);
    RUN(new_names_are_random_and_valid);
    RUN(stored_name_check);
    RUN(type_matching);
    RUN(thumb_sizes);
    RUN(thumb_geometry);
    return harness_summary(__FILE__);
}
