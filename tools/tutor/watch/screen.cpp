#include "screen.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tutor::watch {

namespace {

const char* sgr(Style style) {
  switch (style) {
    case Style::Plain:
      return "";
    case Style::Bold:
      return "1";
    case Style::Dim:
      return "2";
    case Style::Green:
      return "1;32";
    case Style::Red:
      return "1;31";
    case Style::Magenta:
      return "1;35";
    case Style::Cyan:
      return "36";
    case Style::Yellow:
      return "33";
  }
  return "";
}

std::string painted(const std::string& text, Style style, bool colour) {
  if (!colour || style == Style::Plain || text.empty()) return text;
  return fmt::format("\x1b[{}m{}\x1b[0m", sgr(style), text);
}

// The byte offset where `text` has used `count` columns.
std::size_t byte_at_column(std::string_view text, std::size_t count) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (seen == count) return i;
    ++seen;
  }
  return text.size();
}

}  // namespace

Line plain(std::string text, Style style) {
  Line line;
  line.text = std::move(text);
  line.style = style;
  return line;
}

Line blank() { return Line{}; }

std::size_t columns(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::vector<Line> text_lines(const std::string& text, const std::string& indent, Style style) {
  std::vector<Line> lines;
  std::string current;
  auto flush = [&] {
    Line line;
    line.lead = indent;
    line.text = std::move(current);
    line.style = style;
    lines.push_back(std::move(line));
    current.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      flush();
    } else if (c == '\t') {
      current.append(4 - columns(current) % 4, ' ');
    } else if (c == '\x1b') {
      // CSI sequences (colours, cursor moves): ESC [ parameters final-byte.
      if (i + 1 < text.size() && text[i + 1] == '[') {
        i += 2;
        while (i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7e)) ++i;
      }
    } else if (c == '\r') {
      // A carriage return without a newline rewrites the line (progress counters).
      if (i + 1 < text.size() && text[i + 1] != '\n') current.clear();
    } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      current += c;
    }
  }
  if (!current.empty()) flush();
  return lines;
}

std::vector<Line> fit(const Line& line, int width) {
  const std::size_t limit = static_cast<std::size_t>(std::max(width, 20));
  // Continuation lines line up under the text: after the lead, or under the text's own
  // indentation when there is no lead.
  const std::size_t lead = line.lead.empty() ? line.text.find_first_not_of(' ') == std::string::npos
                                                   ? 0
                                                   : line.text.find_first_not_of(' ')
                                             : columns(line.lead);
  std::vector<Line> out;
  std::string rest = line.text;
  for (bool is_first = true;; is_first = false) {
    Line piece;
    piece.lead = is_first ? line.lead : std::string(lead, ' ');
    const std::size_t used = is_first ? columns(line.lead) : lead;
    piece.lead_style = line.lead_style;
    piece.style = line.style;
    const std::size_t room = limit > used + 10 ? limit - used : 10;
    if (columns(rest) <= room) {
      piece.text = rest;
      out.push_back(std::move(piece));
      break;
    }
    std::size_t cut = byte_at_column(rest, room);
    const std::size_t space = rest.rfind(' ', cut);
    if (space != std::string::npos && space > cut / 2) cut = space;
    piece.text = rest.substr(0, cut);
    out.push_back(std::move(piece));
    rest = rest.substr(cut);
    if (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
  }
  return out;
}

std::string compose(const Frame& frame, int rows, int cols, bool colour, int& offset,
                    bool follow_tail) {
  auto fitted = [&](const std::vector<Line>& lines) {
    std::vector<Line> out;
    for (const auto& line : lines)
      for (auto& piece : fit(line, cols - 1)) out.push_back(std::move(piece));
    return out;
  };
  std::vector<Line> header = fitted(frame.header);
  std::vector<Line> body = fitted(frame.body);
  std::vector<Line> footer = fitted(frame.footer);
  const int room =
      std::max(3, rows - static_cast<int>(header.size()) - static_cast<int>(footer.size()));
  const int total = static_cast<int>(body.size());
  std::vector<Line> shown;
  if (total <= room) {
    offset = 0;
    shown = body;
  } else {
    const int window = room - 1;  // the last line says where we are
    const int last_offset = total - window;
    if (follow_tail) offset = last_offset;
    offset = std::clamp(offset, 0, last_offset);
    shown.assign(body.begin() + offset, body.begin() + offset + window);
    shown.push_back(plain(fmt::format("  lines {}-{} of {} · ↑/↓ or j/k scroll, PgUp/PgDn a page",
                                      offset + 1, offset + window, total),
                          Style::Dim));
  }
  while (static_cast<int>(shown.size()) < room) shown.push_back(blank());

  std::string out = "\x1b[H";  // top left; every line then clears what is left of the old one
  bool first = true;
  for (const auto* part : {&header, &shown, &footer}) {
    for (const auto& line : *part) {
      if (!first) out += "\r\n";
      first = false;
      out += painted(line.lead, line.lead_style, colour);
      out += painted(line.text, line.style, colour);
      out += "\x1b[K";
    }
  }
  out += "\x1b[J";  // and below the frame
  return out;
}

}  // namespace tutor::watch
