// Fixture for scripts/check-size: 70 lines, over a limit of 64, and no long function.
#pragma once

inline int f0() { return 0; }

inline int f1() { return 1; }

inline int f2() { return 2; }

inline int f3() { return 3; }

inline int f4() { return 4; }

inline int f5() { return 5; }

inline int f6() { return 6; }

inline int f7() { return 7; }

inline int f8() { return 8; }

inline int f9() { return 9; }

inline int f10() { return 10; }

inline int f11() { return 11; }

inline int f12() { return 12; }

inline int f13() { return 13; }

inline int f14() { return 14; }

inline int f15() { return 15; }

inline int f16() { return 16; }

inline int f17() { return 17; }

inline int f18() { return 18; }

inline int f19() { return 19; }

inline int f20() { return 20; }

inline int f21() { return 21; }

inline int f22() { return 22; }

inline int f23() { return 23; }

inline int f24() { return 24; }

inline int f25() { return 25; }

inline int f26() { return 26; }

inline int f27() { return 27; }

inline int f28() { return 28; }

inline int f29() { return 29; }

inline int f30() { return 30; }

inline int f31() { return 31; }

inline int f32() { return 32; }


