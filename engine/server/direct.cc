// File: engine/server/direct.cc
//
// Direct descriptors (issue 20): a connection's sockets live in the shard ring's fixed-file
// table rather than the process's descriptor table, so the descriptor limit (RLIMIT_NOFILE, a
// hard 20000 on some hosts) bounds each shard's table on its own instead of the whole process.
//
// A socket starts as a regular descriptor — accepted, or created for the backend — so every
// option and address call (TCP_NODELAY, getpeername) works as before; Adopt() then installs it
// in a free entry (io_uring_register_files_update) and closes the descriptor at once, so regular
// descriptors are only transient. Every op on it carries IOSQE_FIXED_FILE (io::File). It ends in
// the ring too: shutdown as an op (counted in flight like any other, so the lifetime rule holds),
// and once the connection is freed — nothing in flight — the ring's close of its entry, whose
// completion alone gives the index back (FixedSlots), so an index is never reused while an op may
// still name it. A full table or a refused install keeps the regular descriptor (counted), and a
// ring without a table (an old kernel) uses regular descriptors throughout.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "engine/common/log.h"
#include "engine/server/loop.h"

namespace wsgate::engine::server {

void Loop::Adopt(Side& side, int fd) {
  side.fd = fd;
  side.direct = false;
  side.shut_down = false;
  if (fixed_.capacity() == 0) return;
  int index = fixed_.Take();
  if (index < 0) {
    ++stats_.direct_table_full;
    return;
  }
  if (int rc = ring_.InstallFile(static_cast<unsigned>(index), fd); rc != 0) {
    fixed_.Release(static_cast<unsigned>(index));
    ++stats_.direct_install_errors;
    if (uint64_t held = 0; direct_log_.Allow(now_ms_, &held))
      WSGATE_LOG(kWarning, "shard %d: installing a socket in the fixed-file table failed: %s; it stays a regular "
                 "descriptor (%d similar lines held back)", options_.index, strerror(-rc), held);
    return;
  }
  ::close(fd);
  side.fd = index;
  side.direct = true;
  ++stats_.direct_sockets;
}

void Loop::ShutdownSocket(Conn& c, SideId s) {
  Side& side = c.side(s);
  if (side.fd < 0) return;
  if (!side.direct) {
    ::shutdown(side.fd, SHUT_RDWR);
    return;
  }
  if (side.shut_down) return;
  side.shut_down = true;
  if (Arm(c, ShutdownOp(s))) return;
  // Not queued: the callers cancel an armed recv; a send in flight (to a peer that does not
  // read) would hold the connection, so cancel it too.
  if (side.out.sending()) Cancel(c, SendOp(s));
}

void Loop::CloseSocket(Side& side) {
  if (side.fd < 0) return;
  if (!side.direct) {
    ::close(side.fd);
  } else {
    --stats_.direct_sockets;
    unsigned index = static_cast<unsigned>(side.fd);
    if (!ring_.PrepCloseDirect(index, io::Tag{kOpCloseDirect, 0, index})) {
      ++stats_.ops_not_queued;
      ring_.RemoveFile(index);  // the submission queue is full: empty the entry at once instead
      fixed_.Release(index);
    }
  }
  side.fd = -1;
  side.direct = false;
  side.shut_down = false;
}

void Loop::OnCloseDirect(const io::Completion& cqe) {
  io::Tag tag = io::Tag::Decode(cqe.user_data);
  if (cqe.res < 0) {
    // The entry is in an unknown state: empty it before the index is used again.
    ring_.RemoveFile(tag.slot);
    if (uint64_t held = 0; direct_log_.Allow(now_ms_, &held))
      WSGATE_LOG(kWarning, "shard %d: closing fixed file %d: %s (%d similar lines held back)", options_.index,
                 static_cast<int>(tag.slot), strerror(-cqe.res), held);
  }
  fixed_.Release(tag.slot);
}

}  // namespace wsgate::engine::server
