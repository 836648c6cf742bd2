// SPDX-License-Identifier: GPL-2.0
/*
 * C wrappers for static inline functions and macros used from Rust. Nothing
 * here holds logic: each function is one call or one expression.
 */
#include <crypto/sha2.h>
#include <kunit/test-bug.h>
#include <linux/mm.h>
#include <linux/proc_fs.h>
#include <linux/timer.h>
#include <linux/sched/signal.h>
#include <linux/sysctl.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <linux/ipv6.h>
#include <net/route.h>
#include <net/inet_sock.h>
#include <net/genetlink.h>
#include <net/netns/generic.h>
#include <net/request_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "helpers.h"

void *mptcp_rs_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

void *mptcp_rs_sysctl_zero(void)
{
	return SYSCTL_ZERO;
}

void *mptcp_rs_sysctl_one(void)
{
	return SYSCTL_ONE;
}

struct kunit *mptcp_rs_kunit_get_current_test(void)
{
	return kunit_get_current_test();
}

void mptcp_rs_sha256_init(struct sha256_state *state)
{
	sha256_init(state);
}

void mptcp_rs_sock_hold(struct sock *sk)
{
	sock_hold(sk);
}

void mptcp_rs_sock_put(struct sock *sk)
{
	sock_put(sk);
}

struct net *mptcp_rs_sock_net(const struct sock *sk)
{
	return sock_net(sk);
}

int mptcp_rs_sock_error(struct sock *sk)
{
	return sock_error(sk);
}

void mptcp_rs_sk_error_report(struct sock *sk)
{
	sk_error_report(sk);
}

void mptcp_rs_sk_data_ready(struct sock *sk)
{
	sk->sk_data_ready(sk);
}

void mptcp_rs_sk_write_space(struct sock *sk)
{
	sk->sk_write_space(sk);
}

void mptcp_rs_sk_state_change(struct sock *sk)
{
	sk->sk_state_change(sk);
}

long mptcp_rs_sock_rcvtimeo(const struct sock *sk, bool noblock)
{
	return sock_rcvtimeo(sk, noblock);
}

long mptcp_rs_sock_sndtimeo(const struct sock *sk, bool noblock)
{
	return sock_sndtimeo(sk, noblock);
}

int mptcp_rs_sock_intr_errno(long timeo)
{
	return sock_intr_errno(timeo);
}

bool mptcp_rs_signal_pending(void)
{
	return signal_pending(current);
}

void mptcp_rs_init_wait_woken(struct wait_queue_entry *wait)
{
	/* DEFINE_WAIT_FUNC(wait, woken_wake_function), in place. */
	init_wait(wait);
	wait->func = woken_wake_function;
}

void mptcp_rs_sk_add_wait(struct sock *sk, struct wait_queue_entry *wait)
{
	add_wait_queue(sk_sleep(sk), wait);
}

void mptcp_rs_sk_remove_wait(struct sock *sk, struct wait_queue_entry *wait)
{
	remove_wait_queue(sk_sleep(sk), wait);
}

void mptcp_rs_read_lock_callbacks(struct sock *sk)
{
	read_lock_bh(&sk->sk_callback_lock);
}

void mptcp_rs_read_unlock_callbacks(struct sock *sk)
{
	read_unlock_bh(&sk->sk_callback_lock);
}

void mptcp_rs_write_lock_callbacks(struct sock *sk)
{
	write_lock_bh(&sk->sk_callback_lock);
}

void mptcp_rs_write_unlock_callbacks(struct sock *sk)
{
	write_unlock_bh(&sk->sk_callback_lock);
}

void mptcp_rs_inet_init_csk_locks(struct sock *sk)
{
	inet_init_csk_locks(sk);
}

void mptcp_rs_inet_set_icsk(struct sock *sk)
{
	inet_set_bit(IS_ICSK, sk);
}

void mptcp_rs_inet6_set_mc_bits(struct sock *sk)
{
	inet6_set_bit(MC6_LOOP, sk);
	inet6_set_bit(MC6_ALL, sk);
}

int mptcp_rs_route_source(struct net *net, __be32 daddr, __be32 *saddr)
{
	struct flowi4 fl4 = {
		.daddr = daddr,
		.flowi4_proto = IPPROTO_TCP,
	};
	struct rtable *rt = ip_route_output_key(net, &fl4);

	if (IS_ERR(rt))
		return PTR_ERR(rt);
	*saddr = fl4.saddr;
	ip_rt_put(rt);
	return 0;
}

void mptcp_rs_set_custom_sockopt(struct sock *sk)
{
	set_bit(SOCK_CUSTOM_SOCKOPT, &sk->sk_socket->flags);
}

int mptcp_rs_copy_from_sockptr(void *dst, sockptr_t src, size_t size)
{
	return copy_from_sockptr(dst, src, size);
}

int mptcp_rs_put_user_int(int val, int __user *ptr)
{
	return put_user(val, ptr);
}

size_t mptcp_rs_msg_data_left(struct msghdr *msg)
{
	return msg_data_left(msg);
}

void mptcp_rs_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void mptcp_rs_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

bool mptcp_rs_skb_cow_head(struct sk_buff *skb, unsigned int headroom)
{
	return skb_cow_head(skb, headroom) == 0;
}

void mptcp_rs_skb_pull(struct sk_buff *skb, unsigned int len)
{
	__skb_pull(skb, len);
}

void mptcp_rs_skb_reset_transport_header(struct sk_buff *skb)
{
	skb_reset_transport_header(skb);
}

void mptcp_rs_skb_set_ip_headers(struct sk_buff *skb, int ihl)
{
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, ihl);
}

bool mptcp_rs_skb_is_ipv4(const struct sk_buff *skb)
{
	return skb->protocol == htons(ETH_P_IP);
}

bool mptcp_rs_skb_csum_partial(const struct sk_buff *skb)
{
	return skb->ip_summed == CHECKSUM_PARTIAL;
}

bool mptcp_rs_pskb_may_pull(struct sk_buff *skb, unsigned int len)
{
	return pskb_may_pull(skb, len);
}

bool mptcp_rs_sk_fullsock(const struct sock *sk)
{
	return sk_fullsock(sk);
}

struct sock *mptcp_rs_req_listener(struct sock *req)
{
	return inet_reqsk(req)->rsk_listener;
}

int mptcp_rs_skb_copy_to_msg(const struct sk_buff *skb, int offset, struct msghdr *msg, int len)
{
	return skb_copy_datagram_msg(skb, offset, msg, len);
}

u32 mptcp_rs_tcp_skb_seq(const struct sk_buff *skb)
{
	return TCP_SKB_CB(skb)->seq;
}

bool mptcp_rs_tcp_skb_fin(const struct sk_buff *skb)
{
	return TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN;
}

unsigned char *mptcp_rs_skb_transport_header(const struct sk_buff *skb)
{
	return skb_transport_header(skb);
}

struct workqueue_struct *mptcp_rs_alloc_workqueue(const char *name)
{
	return alloc_workqueue("%s", WQ_UNBOUND, 0, name);
}

int mptcp_rs_sk_stream_wspace(const struct sock *sk)
{
	return sk_stream_wspace(sk);
}

void mptcp_rs_tcp_close_tail_record(struct sock *sk)
{
	struct sk_buff *skb = tcp_write_queue_tail(sk);

	if (skb)
		TCP_SKB_CB(skb)->eor = 1;
}

/* Penalisation of a slow subflow (tcp_snd_cwnd_set is a static inline). */
void mptcp_rs_tcp_set_cwnd(struct sock *sk, u32 cwnd, u32 ssthresh)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_snd_cwnd_set(tp, max(cwnd, 1U));
	tp->snd_ssthresh = max(ssthresh, 2U);
}

/* Congestion control (rust/cong.rs): static inlines of tcp.h. */
bool mptcp_rs_tcp_is_cwnd_limited(const struct sock *sk)
{
	return tcp_is_cwnd_limited(sk);
}

/* TCP_CONGESTION from the kernel: the name is a kernel buffer (only read,
 * whatever KERNEL_SOCKPTR's type says). Takes the
 * socket's lock; process context.
 */
int mptcp_rs_tcp_set_congestion(struct sock *sk, const char *name, unsigned int len)
{
	return tcp_setsockopt(sk, SOL_TCP, TCP_CONGESTION, KERNEL_SOCKPTR((void *)name), len);
}

unsigned char *mptcp_rs_skb_network_header(const struct sk_buff *skb)
{
	return skb_network_header(skb);
}

void mptcp_rs_sock_poll_wait(struct file *file, struct socket *sock, struct poll_table_struct *p)
{
	sock_poll_wait(file, sock, p);
}

u64 mptcp_rs_jiffies64(void)
{
	return get_jiffies_64();
}

struct sock *mptcp_rs_tcp_lookup_established(struct net *net, const struct sk_buff *skb,
					     __be32 saddr, __be16 sport, __be32 daddr, u16 dport)
{
	return __inet_lookup_established(net, net->ipv4.tcp_death_row.hashinfo, saddr, sport,
					 daddr, dport, inet_iif(skb), inet_sdif(skb));
}

void mptcp_rs_sock_gen_put(struct sock *sk)
{
	sock_gen_put(sk);
}

struct proc_dir_entry *mptcp_rs_proc_create_net_single(struct net *net, const char *name, umode_t mode,
						       int (*show)(struct seq_file *, void *))
{
	return proc_create_net_single(name, mode, net->proc_net, show, NULL);
}

void mptcp_rs_proc_remove_net(struct net *net, const char *name)
{
	remove_proc_entry(name, net->proc_net);
}

u8 mptcp_rs_sk_userlocks(const struct sock *sk)
{
	return READ_ONCE(sk->sk_userlocks);
}

/* SOCK_NOSPACE makes TCP call sk_write_space (and grow the send buffer)
 * when ACKs free room, as for a writer waiting in sk_stream_wait_memory. */
void mptcp_rs_sk_nospace(struct sock *sk)
{
	struct socket *sock = READ_ONCE(sk->sk_socket);

	if (!sock)
		return;
	set_bit(SOCK_NOSPACE, &sock->flags);
	/* Before the caller's next look at the room. */
	smp_mb__after_atomic();
}

/* A socket's IPv4 addresses and ports: sk_rcv_saddr, sk_daddr, sk_num
 * (host order) and sk_dport (network order) are macros over sock_common. */
void mptcp_rs_sk_addrs4(const struct sock *sk, __be32 *saddr, __be32 *daddr,
			u16 *sport, __be16 *dport)
{
	*saddr = READ_ONCE(sk->sk_rcv_saddr);
	*daddr = READ_ONCE(sk->sk_daddr);
	*sport = READ_ONCE(sk->sk_num);
	*dport = READ_ONCE(sk->sk_dport);
}

/* A listener's accept queue, as inet_csk_accept takes from it: the first
 * request (with its child in req->sk), unlinked, or NULL. */
struct request_sock *mptcp_rs_reqsk_queue_remove(struct sock *listener)
{
	return reqsk_queue_remove(&inet_csk(listener)->icsk_accept_queue, listener);
}

void mptcp_rs_reqsk_put(struct request_sock *req)
{
	reqsk_put(req);
}

/* Back to the tail of the accept queue (TCP's softirq path queues there
 * with BH off, as reqsk_queue_remove takes the lock with BH off). */
struct sock *mptcp_rs_reqsk_queue_add(struct sock *listener, struct request_sock *req,
				      struct sock *child)
{
	struct sock *queued;

	local_bh_disable();
	queued = inet_csk_reqsk_queue_add(listener, req, child);
	local_bh_enable();
	return queued;
}

/* A child taken off the accept queue gets its struct socket, as
 * inet_accept gives it (the caller holds the child's lock). */
void mptcp_rs_sock_graft(struct sock *sk, struct socket *parent)
{
	sock_graft(sk, parent);
	parent->state = SS_CONNECTED;
}

/* Whether a writer ran out of room (SOCK_NOSPACE), clearing the mark: only
 * then do freed bytes wake the socket's waiters, as sk_stream_write_space
 * has it. */
bool mptcp_rs_sk_test_clear_nospace(struct sock *sk)
{
	struct socket *sock = READ_ONCE(sk->sk_socket);

	return sock && test_and_clear_bit(SOCK_NOSPACE, &sock->flags);
}

/* Subflow receive queues: the connection takes in-order skbs off them. */
struct sk_buff *mptcp_rs_rx_peek(struct sock *sk)
{
	return skb_peek(&sk->sk_receive_queue);
}

void mptcp_rs_rx_unlink(struct sock *sk, struct sk_buff *skb)
{
	__skb_unlink(skb, &sk->sk_receive_queue);
}

void mptcp_rs_skb_orphan(struct sk_buff *skb)
{
	skb_orphan(skb);
}

void mptcp_rs_skb_set_owner(struct sk_buff *skb, struct sock *sk, void (*destructor)(struct sk_buff *))
{
	skb->sk = sk;
	skb->destructor = destructor;
}

void mptcp_rs_sk_rmem_add(struct sock *sk, int bytes)
{
	atomic_add(bytes, &sk->sk_rmem_alloc);
}

void mptcp_rs_skb_get(struct sk_buff *skb)
{
	skb_get(skb);
}

u32 mptcp_rs_tcp_skb_end_seq(const struct sk_buff *skb)
{
	return TCP_SKB_CB(skb)->end_seq;
}

int mptcp_rs_sk_rmem_alloc(const struct sock *sk)
{
	return sk_rmem_alloc_get(sk);
}

/* consume_skb() is a function only with CONFIG_TRACEPOINTS (the BENCH
 * kernel has none); an inline kfree_skb() otherwise. */
void mptcp_rs_consume_skb(struct sk_buff *skb)
{
	consume_skb(skb);
}

/* A subflow's backlog processed by its lock's owner, between pushes. */
bool mptcp_rs_sk_flush_backlog(struct sock *sk)
{
	return sk_flush_backlog(sk);
}

bool mptcp_rs_in_pingpong_mode(struct sock *sk)
{
	return inet_csk_in_pingpong_mode(sk);
}

void mptcp_rs_tcp_mark_eor(struct sock *sk)
{
	struct sk_buff *skb = tcp_write_queue_tail(sk);

	if (!skb)
		skb = skb_rb_last(&sk->tcp_rtx_queue);
	if (skb)
		TCP_SKB_CB(skb)->eor = 1;
}

/* The connection-level send buffer: page fragments. */
struct page_frag *mptcp_rs_sk_page_frag(struct sock *sk)
{
	return sk_page_frag(sk);
}

void mptcp_rs_get_page(struct page *page)
{
	get_page(page);
}

void mptcp_rs_put_page(struct page *page)
{
	put_page(page);
}

/* Timers. */
void mptcp_rs_timer_setup(struct timer_list *timer, void (*fn)(struct timer_list *))
{
	timer_setup(timer, fn, 0);
}

bool mptcp_rs_timer_pending(const struct timer_list *timer)
{
	return timer_pending(timer);
}

/* Generic netlink: the message helpers are static inlines. */
struct net *mptcp_rs_genl_info_net(const struct genl_info *info)
{
	return genl_info_net(info);
}

struct sk_buff *mptcp_rs_genlmsg_new(void)
{
	return genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
}

void mptcp_rs_genlmsg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void mptcp_rs_genlmsg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

int mptcp_rs_genlmsg_reply(struct sk_buff *skb, struct genl_info *info)
{
	return genlmsg_reply(skb, info);
}

void mptcp_rs_nlmsg_free(struct sk_buff *skb)
{
	nlmsg_free(skb);
}

struct nlattr *mptcp_rs_nla_nest_start(struct sk_buff *skb, int attrtype)
{
	return nla_nest_start(skb, attrtype);
}

void mptcp_rs_nla_nest_end(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_end(skb, start);
}

int mptcp_rs_nla_parse_nested(struct nlattr **tb, int maxtype, const struct nlattr *nla,
			      const struct nla_policy *policy, struct netlink_ext_ack *extack)
{
	return nla_parse_nested(tb, maxtype, nla, policy, extack);
}

const void *mptcp_rs_nla_data(const struct nlattr *nla)
{
	return nla_data(nla);
}

int mptcp_rs_nla_len(const struct nlattr *nla)
{
	return nla_len(nla);
}

u32 mptcp_rs_netlink_cb_portid(const struct netlink_callback *cb)
{
	return NETLINK_CB(cb->skb).portid;
}

/* NL_SET_ERR_MSG, whose macro wants a literal: `msg` must be static. */
void mptcp_rs_nl_set_err_msg(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack)
		extack->_msg = msg;
}
