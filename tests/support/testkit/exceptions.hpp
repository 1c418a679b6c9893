// An exception in words, for a failure message: its type as the program spells it, and what()
// when it is a std::exception: Rejected("input 3 rejected"), std::out_of_range("no such key"),
// int(7).
//
// Why: a test that checks that an exception arrives "with its type" must say what arrived
// instead, and a learner reads a type name better than a list of the types the test happened to
// expect. The name is that of the object that was thrown (its dynamic type), read from the C++
// runtime (abi::__cxa_current_exception_type) and made readable (abi::__cxa_demangle); the
// "(anonymous namespace)::" that a test file's own types carry is left out.
#pragma once

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

namespace testkit {

// The readable name of a type: "std::out_of_range" for the mangled "St12out_of_range"; a type
// of a test file's anonymous namespace without "(anonymous namespace)::".
inline std::string type_name(const std::type_info& type) {
  int status = 0;
  char* readable = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string name = (status == 0 && readable != nullptr) ? readable : type.name();
  std::free(readable);
  const std::string anonymous = "(anonymous namespace)::";
  for (auto at = name.find(anonymous); at != std::string::npos; at = name.find(anonymous, at)) {
    name.erase(at, anonymous.size());
  }
  return name;
}

// What `error` holds, as the expression that would throw it again:
//   a std::exception (or a type derived from it)  Rejected("input 3 rejected")
//   an integer                                    int(7), long(-1)
//   a C string or a std::string                   const char*("boom"), std::string("boom")
//   anything else                                 its type's name: NotAStdException
//   a null std::exception_ptr                     no exception
// The type is the thrown object's own, also when it is caught as a base class elsewhere.
inline std::string describe_exception(const std::exception_ptr& error) {
  if (!error) return "no exception";
  // Inside a handler, the runtime knows the type of the exception being handled.
  const auto thrown_type = [] {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return type != nullptr ? type_name(*type) : std::string("an unknown type");
  };
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return thrown_type() + "(\"" + e.what() + "\")";
  } catch (int value) {
    return "int(" + std::to_string(value) + ")";
  } catch (long value) {
    return "long(" + std::to_string(value) + ")";
  } catch (unsigned value) {
    return "unsigned(" + std::to_string(value) + ")";
  } catch (const char* text) {
    return std::string("const char*(\"") + (text != nullptr ? text : "") + "\")";
  } catch (const std::string& text) {
    return "std::string(\"" + text + "\")";
  } catch (...) {
    return thrown_type();
  }
}

}  // namespace testkit
