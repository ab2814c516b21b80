#ifndef FEEDCORPUS_CCURLSHIM_H
#define FEEDCORPUS_CCURLSHIM_H
// Swift cannot call libcurl's variadic setopt/getinfo functions; these typed wrappers can be.
#include <curl/curl.h>

typedef size_t (*fc_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

CURLcode fc_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode fc_easy_setopt_offt(CURL *handle, CURLoption option, curl_off_t value);
CURLcode fc_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode fc_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode fc_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode fc_easy_setopt_data_callback(CURL *handle, CURLoption option, fc_data_callback callback);

/// Called before every request, on a new or a reused connection, with the peer's address.
typedef int (*fc_prereq_callback)(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                                  int conn_primary_port, int conn_local_port);
CURLcode fc_easy_setopt_prereq(CURL *handle, fc_prereq_callback callback);

CURLcode fc_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode fc_easy_getinfo_string(CURL *handle, CURLINFO info, char **value);
CURLcode fc_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

CURLMcode fc_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

#endif
