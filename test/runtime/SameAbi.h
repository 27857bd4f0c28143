//===- SameAbi.h - our API declarations against the vendor's ----*- C++ -*-===//
//
// The GPU drivers declare the vendor's calls with their own types (opaque
// handles in our namespace, int for an error enum), which the compiler rightly
// sees as other types than the vendor header's. What matters to a call through
// a dlsym'ed pointer is narrower, and kSameSignature<Ours, Theirs> checks that:
// the same number of parameters, and the result and each parameter passed the
// same way. Our opaque handles stand for the vendor's through VendorType, which
// each test specializes, so a swapped pair of handles still fails.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_RUNTIME_SAMEABI_H
#define LLAMAC_TEST_RUNTIME_SAMEABI_H

#include <type_traits>

namespace llamac::test {

/// The vendor's type for one of ours; specialize it for each opaque handle
/// struct (`template <> struct VendorType<ours::CUstream_st> { using type =
/// ::CUstream_st; };`). Any other type stands for itself.
template <typename Ours> struct VendorType {
  using type = Ours;
};

/// `T` with every handle struct in it, behind pointers and const, replaced by
/// the vendor's.
template <typename T> struct InVendorTypes {
  using type = typename VendorType<T>::type;
};
template <typename T> struct InVendorTypes<T *> {
  using type = typename InVendorTypes<T>::type *;
};
template <typename T> struct InVendorTypes<const T> {
  using type = const typename InVendorTypes<T>::type;
};
template <typename T> using InVendorTypesT = typename InVendorTypes<T>::type;

/// Whether a value of type `A` and one of type `B` are passed alike.
template <typename A, typename B> constexpr bool passedAlike() {
  if constexpr (std::is_same_v<A, B>) {
    return true;
  } else if constexpr (std::is_pointer_v<A> && std::is_pointer_v<B>) {
    // const on the pointee changes no call (ROCm 7 made some HIP sources
    // const); what it points to must still agree.
    return passedAlike<std::remove_cv_t<std::remove_pointer_t<A>>,
                       std::remove_cv_t<std::remove_pointer_t<B>>>();
  } else if constexpr ((std::is_integral_v<A> || std::is_enum_v<A>) &&
                       (std::is_integral_v<B> || std::is_enum_v<B>)) {
    // An enum is passed as an integer of its size (its signedness is the
    // compiler's choice); two integers must agree in width and signedness
    // (size_t and unsigned long long are alike on LP64, int and unsigned
    // are not).
    return sizeof(A) == sizeof(B) &&
           (std::is_enum_v<A> || std::is_enum_v<B> ||
            std::is_signed_v<A> == std::is_signed_v<B>);
  } else {
    return false;
  }
}

/// Whether a function-pointer type of ours calls like the vendor's.
template <typename Ours, typename Theirs> struct SameSignature {
  static constexpr bool value() { return false; }
};
template <typename R1, typename... A1, typename R2, typename... A2>
struct SameSignature<R1 (*)(A1...), R2 (*)(A2...)> {
  static constexpr bool value() {
    if constexpr (sizeof...(A1) != sizeof...(A2))
      return false;
    else
      return passedAlike<InVendorTypesT<R1>, R2>() &&
             (passedAlike<InVendorTypesT<A1>, A2>() && ...);
  }
};
template <typename Ours, typename Theirs>
inline constexpr bool kSameSignature = SameSignature<Ours, Theirs>::value();

/// Whether a type of ours (a typedef, a handle) is passed like the vendor's.
template <typename Ours, typename Theirs>
inline constexpr bool kSameType = passedAlike<InVendorTypesT<Ours>, Theirs>();

// The rules, by example: each is a mistake the check must catch.
namespace same_abi_examples {
enum class Status : unsigned { Ok = 0 };
struct OurHandle;
struct TheirHandle;
struct TheirOtherHandle;
} // namespace same_abi_examples
template <> struct VendorType<same_abi_examples::OurHandle> {
  using type = same_abi_examples::TheirHandle;
};
namespace same_abi_examples {
static_assert(kSameSignature<int (*)(OurHandle *, const void *),
                             Status (*)(TheirHandle *, void *)>);
static_assert(!kSameSignature<int (*)(OurHandle *),
                              int (*)(TheirOtherHandle *)>,
              "a handle of the wrong kind");
static_assert(!kSameSignature<int (*)(unsigned), int (*)(unsigned long)>,
              "a 32-bit size where the vendor's is 64-bit");
static_assert(!kSameSignature<int (*)(int), int (*)(unsigned)>,
              "signedness");
static_assert(!kSameSignature<int (*)(void *, unsigned long),
                              int (*)(unsigned long, void *)>,
              "parameter order");
static_assert(!kSameSignature<int (*)(OurHandle *),
                              int (*)(TheirHandle *, int)>,
              "arity");
static_assert(!kSameSignature<int (*)(OurHandle **), int (*)(TheirHandle *)>,
              "a pointer to a handle where the vendor takes the handle");
} // namespace same_abi_examples

} // namespace llamac::test

#endif // LLAMAC_TEST_RUNTIME_SAMEABI_H
