#include "raft/message.h"

namespace millrace::raft {

const char* to_string(MessageType t) {
  switch (t) {
    case MessageType::kPreVote: return "PreVote";
    case MessageType::kPreVoteResponse: return "PreVoteResp";
    case MessageType::kVote: return "Vote";
    case MessageType::kVoteResponse: return "VoteResp";
    case MessageType::kAppend: return "Append";
    case MessageType::kAppendResponse: return "AppendResp";
    case MessageType::kHeartbeat: return "Heartbeat";
    case MessageType::kHeartbeatResponse: return "HeartbeatResp";
    case MessageType::kSnapshot: return "Snapshot";
    case MessageType::kTimeoutNow: return "TimeoutNow";
  }
  return "?";
}

bool is_response(MessageType t) {
  return t == MessageType::kPreVoteResponse || t == MessageType::kVoteResponse ||
         t == MessageType::kAppendResponse || t == MessageType::kHeartbeatResponse;
}

size_t Message::bytes() const {
  size_t n = 0;
  for (const Entry& e : entries) n += e.bytes();
  return n;
}

std::string Message::to_string() const {
  std::string s = std::string(raft::to_string(type)) + " " + std::to_string(from.value()) + "->" +
                  std::to_string(to.value()) + " g" + std::to_string(group.value()) + " t" +
                  std::to_string(term.value());
  switch (type) {
    case MessageType::kPreVote:
    case MessageType::kVote:
      s += " last=" + std::to_string(index.value()) + "@t" + std::to_string(log_term.value());
      if (transfer) s += " transfer";
      break;
    case MessageType::kAppend:
      s += " prev=" + std::to_string(index.value()) + "@t" + std::to_string(log_term.value()) +
           " n=" + std::to_string(entries.size());
      if (!entries.empty())
        s += " [" + std::to_string(entries.front().first.value()) + ".." + std::to_string(entries.back().last.value()) + "]";
      s += " commit=" + std::to_string(commit.value());
      break;
    case MessageType::kAppendResponse:
      s += " index=" + std::to_string(index.value());
      if (reject) s += " REJECT hint=" + std::to_string(hint_index.value()) + "@t" + std::to_string(hint_term.value());
      break;
    case MessageType::kHeartbeat:
      s += " commit=" + std::to_string(commit.value()) + " ctx=" + std::to_string(context);
      break;
    case MessageType::kHeartbeatResponse:
      s += " ctx=" + std::to_string(context);
      break;
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse:
      s += reject ? " REJECT" : " GRANT";
      break;
    case MessageType::kSnapshot:
      s += " snap=" + std::to_string(snapshot.index.value()) + "@t" + std::to_string(snapshot.term.value()) + " " +
           snapshot.config.to_string();
      break;
    case MessageType::kTimeoutNow:
      break;
  }
  return s;
}

}  // namespace millrace::raft
