// What the watch loop draws: lines with a little colour, broken to the terminal's width, and a
// frame that fills the screen from the top (header, a scrollable body, footer) and replaces the
// previous frame. Only ANSI escape codes; the loop runs only on a terminal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tutor::watch {

enum class Style { Plain, Bold, Dim, Green, Red, Magenta, Cyan, Yellow };

// `lead` (e.g. "  PASS    ") in `lead_style`, then `text` in `style`. A line too long for the
// screen is broken at a space, its continuation lines indented by the lead's width (without a
// lead: as far as the text's own first line).
struct Line {
  std::string lead;
  Style lead_style = Style::Plain;
  std::string text;
  Style style = Style::Plain;
};

Line plain(std::string text, Style style = Style::Plain);
Line blank();

// Terminal columns `text` takes: one per UTF-8 code point (the tutor's text has no wide
// characters).
std::size_t columns(std::string_view text);

// Text from elsewhere (a demo's output, a diff) made safe to draw: escape sequences and control
// characters removed, tabs expanded. One Line per line of text.
std::vector<Line> text_lines(const std::string& text, const std::string& indent = "  ",
                             Style style = Style::Plain);

// `line` broken into lines of at most `width` columns.
std::vector<Line> fit(const Line& line, int width);

struct Frame {
  std::vector<Line> header;  // always shown, at the top
  std::vector<Line> body;    // scrolls when it does not fit
  std::vector<Line> footer;  // always shown, at the bottom
};

// The escape codes and text that replace the screen with `frame` on a `rows` x `cols`
// terminal. `offset` is the first body line shown: it is clamped to what can be shown and, with
// `follow_tail`, moved to show the body's end. When the body does not fit, its last shown line
// says which lines are shown and how to scroll.
std::string compose(const Frame& frame, int rows, int cols, bool colour, int& offset,
                    bool follow_tail);

}  // namespace tutor::watch
