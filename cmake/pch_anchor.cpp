// Empty on purpose: a precompiled header needs a target to belong to (see cmake/Kata.cmake).
