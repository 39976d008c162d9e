#include "CHubShim.h"
