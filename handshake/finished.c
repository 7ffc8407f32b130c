/* Finished (RFC 5246 §7.4.9) and ServerHelloDone (RFC 5246 §7.4.5).
 *
 *   struct {
 *       opaque verify_data[verify_data_length];     12 in TLS 1.2
 *   } Finished;
 *
 *   struct { } ServerHelloDone;
 */
#include "handshake/messages.h"

int hs_finished_write(cursor_writer *w, const hs_finished *m)
{
    return cursor_write_bytes(w, m->verify_data, HS_VERIFY_DATA_LEN);
}

int hs_finished_read(cursor_reader *r, hs_finished *m)
{
    PETREL_TRY(cursor_read_copy(r, m->verify_data, HS_VERIFY_DATA_LEN));
    return cursor_reader_finish(r);
}

int hs_server_hello_done_read(cursor_reader *r)
{
    return cursor_reader_finish(r);
}
