/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prototypes of rust/helpers.c: C wrappers for the static inline functions
 * and macros that the Rust side of mptcp_rs needs and bindgen cannot see.
 * Every wrapper is named mptcp_rs_<what it wraps>.
 */
#ifndef MPTCP_RS_HELPERS_H
#define MPTCP_RS_HELPERS_H

#include <linux/sockptr.h>
#include <linux/spinlock_types.h>
#include <linux/types.h>

struct kunit;
struct msghdr;
struct net;
struct sha256_state;
struct sock;
struct seq_file;
struct proc_dir_entry;
struct file;
struct socket;
struct poll_table_struct;
struct workqueue_struct;
struct sk_buff;
struct spinlock;
struct wait_queue_entry;
struct page;
struct page_frag;
struct timer_list;
struct genl_info;
struct nlattr;
struct nla_policy;
struct netlink_callback;
struct netlink_ext_ack;

/* Namespaces, sysctls, KUnit, crypto. */
void *mptcp_rs_net_generic(const struct net *net, unsigned int id);
void *mptcp_rs_sysctl_zero(void);
void *mptcp_rs_sysctl_one(void);
struct kunit *mptcp_rs_kunit_get_current_test(void);
void mptcp_rs_sha256_init(struct sha256_state *state);

/* Sockets. */
void mptcp_rs_sock_hold(struct sock *sk);
void mptcp_rs_sock_put(struct sock *sk);
struct net *mptcp_rs_sock_net(const struct sock *sk);
int mptcp_rs_sock_error(struct sock *sk);
void mptcp_rs_sk_error_report(struct sock *sk);
void mptcp_rs_sk_data_ready(struct sock *sk);
void mptcp_rs_sk_write_space(struct sock *sk);
void mptcp_rs_sk_state_change(struct sock *sk);
long mptcp_rs_sock_rcvtimeo(const struct sock *sk, bool noblock);
long mptcp_rs_sock_sndtimeo(const struct sock *sk, bool noblock);
int mptcp_rs_sock_intr_errno(long timeo);
bool mptcp_rs_signal_pending(void);
void mptcp_rs_init_wait_woken(struct wait_queue_entry *wait);
void mptcp_rs_sk_add_wait(struct sock *sk, struct wait_queue_entry *wait);
void mptcp_rs_sk_remove_wait(struct sock *sk, struct wait_queue_entry *wait);
void mptcp_rs_read_lock_callbacks(struct sock *sk);
void mptcp_rs_read_unlock_callbacks(struct sock *sk);
void mptcp_rs_write_lock_callbacks(struct sock *sk);
void mptcp_rs_write_unlock_callbacks(struct sock *sk);
void mptcp_rs_inet_init_csk_locks(struct sock *sk);
void mptcp_rs_inet_set_icsk(struct sock *sk);
void mptcp_rs_inet6_set_mc_bits(struct sock *sk);
int mptcp_rs_route_source(struct net *net, __be32 daddr, __be32 *saddr);
void mptcp_rs_set_custom_sockopt(struct sock *sk);
int mptcp_rs_copy_from_sockptr(void *dst, sockptr_t src, size_t size);
int mptcp_rs_put_user_int(int val, int __user *ptr);
size_t mptcp_rs_msg_data_left(struct msghdr *msg);
void mptcp_rs_spin_lock_bh(spinlock_t *lock);
bool mptcp_rs_skb_cow_head(struct sk_buff *skb, unsigned int headroom);
void mptcp_rs_skb_pull(struct sk_buff *skb, unsigned int len);
void mptcp_rs_skb_reset_transport_header(struct sk_buff *skb);
void mptcp_rs_skb_set_ip_headers(struct sk_buff *skb, int ihl);
bool mptcp_rs_skb_is_ipv4(const struct sk_buff *skb);
bool mptcp_rs_skb_csum_partial(const struct sk_buff *skb);
bool mptcp_rs_pskb_may_pull(struct sk_buff *skb, unsigned int len);
bool mptcp_rs_sk_fullsock(const struct sock *sk);
struct sock *mptcp_rs_req_listener(struct sock *req);
int mptcp_rs_skb_copy_to_msg(const struct sk_buff *skb, int offset, struct msghdr *msg, int len);
u32 mptcp_rs_tcp_skb_seq(const struct sk_buff *skb);
unsigned char *mptcp_rs_skb_transport_header(const struct sk_buff *skb);
unsigned char *mptcp_rs_skb_network_header(const struct sk_buff *skb);
struct workqueue_struct *mptcp_rs_alloc_workqueue(const char *name);
u64 mptcp_rs_jiffies64(void);
struct sock *mptcp_rs_tcp_lookup_established(struct net *net, const struct sk_buff *skb,
					     __be32 saddr, __be16 sport, __be32 daddr, u16 dport);
void mptcp_rs_sock_gen_put(struct sock *sk);
u8 mptcp_rs_sk_userlocks(const struct sock *sk);
struct proc_dir_entry *mptcp_rs_proc_create_net_single(struct net *net, const char *name, umode_t mode,
						       int (*show)(struct seq_file *, void *));
void mptcp_rs_proc_remove_net(struct net *net, const char *name);
int mptcp_rs_sk_stream_wspace(const struct sock *sk);
void mptcp_rs_sk_addrs4(const struct sock *sk, __be32 *saddr, __be32 *daddr,
			u16 *sport, __be16 *dport);
struct request_sock;
struct request_sock *mptcp_rs_reqsk_queue_remove(struct sock *listener);
void mptcp_rs_reqsk_put(struct request_sock *req);
struct sock *mptcp_rs_reqsk_queue_add(struct sock *listener, struct request_sock *req,
				      struct sock *child);
void mptcp_rs_sock_graft(struct sock *sk, struct socket *parent);
void mptcp_rs_sk_nospace(struct sock *sk);
bool mptcp_rs_sk_test_clear_nospace(struct sock *sk);
void mptcp_rs_sock_poll_wait(struct file *file, struct socket *sock, struct poll_table_struct *p);
void mptcp_rs_tcp_close_tail_record(struct sock *sk);
bool mptcp_rs_tcp_skb_fin(const struct sk_buff *skb);
void mptcp_rs_spin_unlock_bh(spinlock_t *lock);


/* Subflow receive queues, the send buffer's pages, timers. */
struct sk_buff *mptcp_rs_rx_peek(struct sock *sk);
void mptcp_rs_rx_unlink(struct sock *sk, struct sk_buff *skb);
void mptcp_rs_skb_orphan(struct sk_buff *skb);
void mptcp_rs_skb_set_owner(struct sk_buff *skb, struct sock *sk, void (*destructor)(struct sk_buff *));
void mptcp_rs_sk_rmem_add(struct sock *sk, int bytes);
void mptcp_rs_skb_get(struct sk_buff *skb);
u32 mptcp_rs_tcp_skb_end_seq(const struct sk_buff *skb);
int mptcp_rs_sk_rmem_alloc(const struct sock *sk);
void mptcp_rs_consume_skb(struct sk_buff *skb);
bool mptcp_rs_sk_flush_backlog(struct sock *sk);
bool mptcp_rs_in_pingpong_mode(struct sock *sk);
void mptcp_rs_tcp_mark_eor(struct sock *sk);
void mptcp_rs_tcp_set_cwnd(struct sock *sk, u32 cwnd, u32 ssthresh);
bool mptcp_rs_tcp_is_cwnd_limited(const struct sock *sk);
int mptcp_rs_tcp_set_congestion(struct sock *sk, const char *name, unsigned int len);
struct page_frag *mptcp_rs_sk_page_frag(struct sock *sk);
void mptcp_rs_get_page(struct page *page);
void mptcp_rs_put_page(struct page *page);
void mptcp_rs_timer_setup(struct timer_list *timer, void (*fn)(struct timer_list *));
bool mptcp_rs_timer_pending(const struct timer_list *timer);

/* Generic netlink. */
struct net *mptcp_rs_genl_info_net(const struct genl_info *info);
struct sk_buff *mptcp_rs_genlmsg_new(void);
void mptcp_rs_genlmsg_end(struct sk_buff *skb, void *hdr);
void mptcp_rs_genlmsg_cancel(struct sk_buff *skb, void *hdr);
int mptcp_rs_genlmsg_reply(struct sk_buff *skb, struct genl_info *info);
void mptcp_rs_nlmsg_free(struct sk_buff *skb);
struct nlattr *mptcp_rs_nla_nest_start(struct sk_buff *skb, int attrtype);
void mptcp_rs_nla_nest_end(struct sk_buff *skb, struct nlattr *start);
int mptcp_rs_nla_parse_nested(struct nlattr **tb, int maxtype, const struct nlattr *nla,
			      const struct nla_policy *policy, struct netlink_ext_ack *extack);
const void *mptcp_rs_nla_data(const struct nlattr *nla);
int mptcp_rs_nla_len(const struct nlattr *nla);
u32 mptcp_rs_netlink_cb_portid(const struct netlink_callback *cb);
void mptcp_rs_nl_set_err_msg(struct netlink_ext_ack *extack, const char *msg);

#endif
