/* (being written) */
typedef int hh_placeholder_calls_space;
