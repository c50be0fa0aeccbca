/*
 * test_openapi.c - the OpenAPI document and the route table describe the
 * same API: every route is documented with its method, and every
 * documented operation is routed.  Roles are documented as x-roles; the
 * query parameters the route table lets through are the documented ones.
 * Generated clients need what the rest checks: a unique operationId on
 * every operation, servers, and every error answer as problem+json.
 * (The integration harness checks the responses themselves.)
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/routes.h"
#include "daemon/embed.h"
#include "unit.h"

static json_t *doc;

static const char *
lower_method(int m)
{
	switch (m) {
	case HTTP_GET:		return "get";
	case HTTP_POST:		return "post";
	case HTTP_PUT:		return "put";
	case HTTP_PATCH:	return "patch";
	case HTTP_DELETE:	return "delete";
	}
	return "?";
}

static unsigned
roles_of(json_t *op)
{
	json_t *arr = json_object_get(op, "x-roles"), *v;
	unsigned roles = 0;
	size_t i;

	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL)
			continue;
		if (strcmp(s, "anonymous") == 0) roles |= ROLE_ANON;
		else if (strcmp(s, "platform") == 0) roles |= ROLE_PLATFORM;
		else if (strcmp(s, "admin") == 0) roles |= ROLE_ADMIN;
		else if (strcmp(s, "instructor") == 0) roles |= ROLE_INSTRUCTOR;
		else if (strcmp(s, "learner") == 0) roles |= ROLE_LEARNER;
		else roles |= 0x8000;	/* unknown name: never matches */
	}
	return roles;
}

START_TEST(document_parses)
{
	ck_assert_ptr_nonnull(doc);
	ck_assert_ptr_nonnull(json_object_get(doc, "paths"));
	ck_assert_str_eq(json_string_value(json_object_get(doc, "openapi")),
	    "3.0.3");
}
END_TEST

START_TEST(every_route_documented)
{
	json_t *paths = json_object_get(doc, "paths");

	for (size_t i = 0; i < api_nroutes; i++) {
		const struct route *r = &api_routes[i];
		json_t *item = json_object_get(paths, r->pattern);
		json_t *op = item ? json_object_get(item,
		    lower_method(r->method)) : NULL;

		ck_assert_msg(op != NULL, "%s %s is routed but not documented",
		    lower_method(r->method), r->pattern);
		ck_assert_msg(roles_of(op) == r->roles, "%s %s: x-roles differ "
		    "from the route table", lower_method(r->method), r->pattern);
	}
}
END_TEST

START_TEST(every_operation_routed)
{
	json_t *paths = json_object_get(doc, "paths"), *item, *op;
	const char *path, *method;

	json_object_foreach(paths, path, item) {
		json_object_foreach(item, method, op) {
			size_t i;

			if (strcmp(method, "parameters") == 0)
				continue;
			for (i = 0; i < api_nroutes; i++)
				if (strcmp(api_routes[i].pattern, path) == 0 &&
				    strcmp(lower_method(api_routes[i].method),
				    method) == 0)
					break;
			ck_assert_msg(i < api_nroutes, "%s %s is documented but "
			    "not routed", method, path);
		}
	}
}
END_TEST

/* The response object, through one $ref into components/responses. */
static json_t *
response_of(json_t *resp)
{
	const char *ref = json_string_value(json_object_get(resp, "$ref"));
	const char *pre = "#/components/responses/";

	if (ref == NULL)
		return resp;
	if (strncmp(ref, pre, strlen(pre)) != 0)
		return NULL;
	return json_object_get(json_object_get(json_object_get(doc,
	    "components"), "responses"), ref + strlen(pre));
}

START_TEST(operations_named_and_errors_are_problems)
{
	json_t *paths = json_object_get(doc, "paths"), *item, *op, *ids;
	const char *path, *method;

	ck_assert_msg(json_array_size(json_object_get(doc, "servers")) > 0,
	    "the document names no servers");
	ids = json_object();
	json_object_foreach(paths, path, item) {
		json_object_foreach(item, method, op) {
			json_t *resps = json_object_get(op, "responses"), *r;
			const char *id = json_string_value(json_object_get(op,
			    "operationId")), *st;

			if (strcmp(method, "parameters") == 0)
				continue;
			ck_assert_msg(id != NULL, "%s %s has no operationId",
			    method, path);
			ck_assert_msg(json_object_get(ids, id) == NULL,
			    "operationId %s is used twice", id);
			json_object_set_new(ids, id, json_true());
			json_object_foreach(resps, st, r) {
				json_t *res = response_of(r), *content;

				if (st[0] != '4' && st[0] != '5')
					continue;
				ck_assert_msg(res != NULL, "%s %s %s: a $ref "
				    "that does not resolve", method, path, st);
				content = json_object_get(res, "content");
				ck_assert_msg(json_object_size(content) == 1 &&
				    json_object_get(content,
				    "application/problem+json") != NULL,
				    "%s %s %s is not only problem+json", method,
				    path, st);
			}
		}
	}
	json_decref(ids);
}
END_TEST

/* A parameter object, with a "$ref" into components followed. */
static json_t *
param_of(json_t *p)
{
	const char *ref = json_string_value(json_object_get(p, "$ref"));
	const char *pre = "#/components/parameters/";

	if (ref == NULL || strncmp(ref, pre, strlen(pre)) != 0)
		return p;
	return json_object_get(json_object_get(json_object_get(doc,
	    "components"), "parameters"), ref + strlen(pre));
}

/* The documented query parameter name of op (or its path item), or NULL. */
static json_t *
doc_query_param(json_t *item, json_t *op, const char *name)
{
	json_t *lists[2] = { json_object_get(op, "parameters"),
	    json_object_get(item, "parameters") }, *p;
	size_t i;

	for (int l = 0; l < 2; l++)
		json_array_foreach(lists[l], i, p) {
			json_t *q = param_of(p);

			if (strcmp(json_string_value(json_object_get(q, "in")) ?
			    json_string_value(json_object_get(q, "in")) : "",
			    "query") == 0 && strcmp(json_string_value(
			    json_object_get(q, "name")), name) == 0)
				return q;
		}
	return NULL;
}

START_TEST(query_parameters_documented)
{
	json_t *paths = json_object_get(doc, "paths");

	for (size_t i = 0; i < api_nroutes; i++) {
		const struct route *r = &api_routes[i];
		json_t *item = json_object_get(paths, r->pattern);
		json_t *op = json_object_get(item, lower_method(r->method));
		json_t *lists[2] = { json_object_get(op, "parameters"),
		    json_object_get(item, "parameters") }, *p;
		size_t n = 0, k;

		for (const struct http_qparam *q = r->query; q && q->name; q++) {
			json_t *dp = doc_query_param(item, op, q->name);
			json_t *en = json_object_get(json_object_get(dp,
			    "schema"), "enum");
			size_t c = 0;

			ck_assert_msg(dp != NULL, "%s %s takes ?%s, undocumented",
			    lower_method(r->method), r->pattern, q->name);
			n++;
			if (q->type != HTTP_Q_ENUM || en == NULL)
				continue;
			for (; q->choices[c] != NULL; c++)
				;
			ck_assert_msg(json_array_size(en) == c, "%s %s ?%s: "
			    "the enum differs", lower_method(r->method),
			    r->pattern, q->name);
		}
		for (int l = 0; l < 2; l++)
			json_array_foreach(lists[l], k, p) {
				json_t *q = param_of(p);
				const char *in = json_string_value(
				    json_object_get(q, "in"));

				if (in != NULL && strcmp(in, "query") == 0)
					n--;
			}
		ck_assert_msg(n == 0, "%s %s: the documented query parameters "
		    "are not the route table's", lower_method(r->method),
		    r->pattern);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("openapi");
	TCase *tc = tcase_create("openapi");
	json_error_t e;

	doc = json_loadb(embedded_openapi[0].data, embedded_openapi[0].len, 0,
	    &e);
	tcase_add_test(tc, document_parses);
	tcase_add_test(tc, every_route_documented);
	tcase_add_test(tc, every_operation_routed);
	tcase_add_test(tc, operations_named_and_errors_are_problems);
	tcase_add_test(tc, query_parameters_documented);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
