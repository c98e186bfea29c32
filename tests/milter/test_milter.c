// SPDX-License-Identifier: MIT
/*
 * test_milter.c - a small Milter for qpurge's test corpus.
 *
 * For messages whose Subject contains "[milter]" it does every kind of edit
 * that leaves pointer records in a Postfix queue file: changes the envelope
 * sender, adds a recipient, deletes each recipient whose local part starts
 * with "del", changes, inserts and deletes headers, and replaces the body.
 * Other messages pass untouched.
 *
 * Usage: test_milter SOCKET   (e.g. unix:/tmp/x/milter.sock or inet:9999@127.0.0.1)
 * Built on demand by scripts/pfsandbox: cc -O2 -o test_milter test_milter.c -lmilter -lpthread
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEL 16

struct state {
  int edit;
  int ndel;
  char* del[MAX_DEL];
};

static struct state* get(SMFICTX* ctx) {
  struct state* s = smfi_getpriv(ctx);
  if (!s) {
    s = calloc(1, sizeof *s);
    smfi_setpriv(ctx, s);
  }
  return s;
}

static void reset(SMFICTX* ctx) {
  struct state* s = smfi_getpriv(ctx);
  if (!s) return;
  for (int i = 0; i < s->ndel; i++) free(s->del[i]);
  free(s);
  smfi_setpriv(ctx, NULL);
}

static sfsistat on_rcpt(SMFICTX* ctx, char** argv) {
  struct state* s = get(ctx);
  const char* a = argv[0];
  if (*a == '<') a++;
  if (strncasecmp(a, "del", 3) == 0 && s->ndel < MAX_DEL) {
    char* copy = strdup(argv[0]);
    s->del[s->ndel++] = copy;
  }
  return SMFIS_CONTINUE;
}

static sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
  if (strcasecmp(name, "Subject") == 0 && strstr(value, "[milter]")) get(ctx)->edit = 1;
  return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX* ctx) {
  struct state* s = get(ctx);
  if (s->edit) {
    smfi_chgfrom(ctx, "<changed@milter-sender.example>", NULL);
    smfi_addrcpt(ctx, "<added@milter-added.example>");
    for (int i = 0; i < s->ndel; i++) smfi_delrcpt(ctx, s->del[i]);
    smfi_chgheader(ctx, "Subject", 1, "[milter] subject changed by the test milter");
    smfi_insheader(ctx, 0, "X-Milter-Inserted", "first header now");
    smfi_addheader(ctx, "X-Milter-Added", "yes");
    smfi_chgheader(ctx, "X-Remove-Me", 1, NULL);
    const char* body = "The body was replaced by the test milter.\r\nIt mentions example.com too.\r\n";
    smfi_replacebody(ctx, (unsigned char*)body, (int)strlen(body));
  }
  reset(ctx);
  return SMFIS_CONTINUE;
}

static sfsistat on_abort(SMFICTX* ctx) {
  reset(ctx);
  return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX* ctx) {
  reset(ctx);
  return SMFIS_CONTINUE;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
    return 2;
  }
  struct smfiDesc desc = {
      "qpurge-test-milter", SMFI_VERSION,
      SMFIF_CHGFROM | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS | SMFIF_ADDHDRS | SMFIF_CHGBODY,
      NULL, NULL, NULL, on_rcpt, on_header, NULL, NULL, on_eom, on_abort, on_close, NULL, NULL, NULL};
  if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(desc) == MI_FAILURE) {
    fprintf(stderr, "%s: cannot set up on %s\n", argv[0], argv[1]);
    return 1;
  }
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}
