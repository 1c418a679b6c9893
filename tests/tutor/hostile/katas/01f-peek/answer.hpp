// Kata 01f · Include the solution
// Not a kata: it includes the solution instead of solving anything. The learner's compile does
// not see solutions/, so this is a BUILD ERROR (where bubblewrap works) and always flagged.
#pragma once

#include "../../solutions/01f-peek/answer.hpp"
