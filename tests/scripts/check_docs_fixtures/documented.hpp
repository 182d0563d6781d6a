#pragma once

namespace documented {

/// A type whose members all say what they are.
struct Point {
  int x = 0;  ///< across, in pixels
  int y = 0;  ///< down, in pixels
};

/// The distance between two points, in pixels.
double distance(Point a, Point b);

}  // namespace documented
